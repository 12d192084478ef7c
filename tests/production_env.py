"""A complete production environment, for tests that load production settings."""

PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "DATABASE_URL": "postgresql://app@db/portal",
    "CELERY_BROKER_URL": "redis://cache:6379/0",
    "PORTAL_SECRET_KEY": "s" * 40,
    "PORTAL_DATA_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
    "PORTAL_PUBLIC_URL": "https://portal.example.vn",
    "CITY_API_URL": "https://city.example.vn",
    "CITY_CLIENT_ID": "x",
    "CITY_CLIENT_SECRET": "y",
    "CITY_WEBHOOK_SECRET": "z",
    "SMTP_HOST": "relay.example.vn",
    "SMTP_FROM": "Cổng Dịch vụ công <thongbao@example.vn>",
    "SMS_API_URL": "https://sms.example.vn",
    "SMS_API_KEY": "sms-key",
    "SMS_BRAND": "DVC-HANOI",
    "SMS_WEBHOOK_SECRET": "sms-secret",
    "VNPAY_TMN_CODE": "ABCD1234",
    "VNPAY_HASH_SECRET": "vnpay-secret",
    "VNPAY_PAYMENT_URL": "https://pay.example.vn/paymentv2/vpcpay.html",
    "VNPAY_API_URL": "https://pay.example.vn/merchant_webapi/api/transaction",
}
