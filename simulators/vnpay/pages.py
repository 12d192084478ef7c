"""The payment page and the error page, in Vietnamese (`vnp_Locale=vn`) or English (`en`)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from .ledger import FAILURE_REASONS, Transaction

TEXTS = {
    "vn": {
        "lang": "vi",
        "brand": "Cổng thanh toán (trình mô phỏng)",
        "title": "Thanh toán đơn hàng",
        "merchant": "Đơn vị chấp nhận thanh toán",
        "txn_ref": "Mã đơn hàng",
        "amount": "Số tiền",
        "order_info": "Nội dung thanh toán",
        "expires": "Hạn thanh toán",
        "choose": "Chọn kết quả giao dịch để kiểm thử:",
        "success": "Thanh toán thành công",
        "failure": "Thanh toán thất bại",
        "reason": "Lý do thất bại",
        "cancel": "Hủy thanh toán",
        "footer": "Trình mô phỏng VNPAY dùng để kiểm thử — không có giao dịch hay tiền thật.",
        "error_title": "Không thể thực hiện giao dịch",
        "error_code": "Mã lỗi",
        "thousands": ".",
    },
    "en": {
        "lang": "en",
        "brand": "Payment gateway (simulator)",
        "title": "Pay for your order",
        "merchant": "Merchant",
        "txn_ref": "Order reference",
        "amount": "Amount",
        "order_info": "Payment description",
        "expires": "Pay before",
        "choose": "Choose the result of this test transaction:",
        "success": "Payment succeeds",
        "failure": "Payment fails",
        "reason": "Reason for the failure",
        "cancel": "Cancel payment",
        "footer": "VNPAY simulator for testing — no real transaction, no real money.",
        "error_title": "The transaction cannot be carried out",
        "error_code": "Error code",
        "thousands": ",",
    },
}

REASONS = {
    "vn": {
        "51": "Tài khoản không đủ số dư",
        "11": "Hết hạn chờ thanh toán",
        "13": "Nhập sai mật khẩu xác thực giao dịch (OTP)",
        "12": "Thẻ/Tài khoản bị khóa",
        "09": "Thẻ/Tài khoản chưa đăng ký dịch vụ InternetBanking",
        "10": "Xác thực thông tin thẻ/tài khoản sai quá 3 lần",
        "65": "Tài khoản đã vượt quá hạn mức giao dịch trong ngày",
        "75": "Ngân hàng thanh toán đang bảo trì",
        "79": "Nhập sai mật khẩu thanh toán quá số lần quy định",
        "99": "Lỗi khác",
    },
    "en": {
        "51": "Insufficient balance",
        "11": "Payment wait time expired",
        "13": "Wrong one-time password (OTP)",
        "12": "Card or account locked",
        "09": "Card or account not registered for internet banking",
        "10": "Card or account details wrong more than 3 times",
        "65": "Daily transaction limit exceeded",
        "75": "Paying bank under maintenance",
        "79": "Wrong payment password too many times",
        "99": "Other error",
    },
}

#: The payment page's own error codes (70 is VNPay's "Sai chữ ký"; the rest are the simulator's).
PAGE_ERRORS = {
    "70": ("Sai chữ ký", "Invalid signature (vnp_SecureHash)"),
    "71": ("Website chưa được đăng ký với VNPAY (vnp_TmnCode)", "Website not registered with VNPAY (vnp_TmnCode)"),
    "03": ("Dữ liệu gửi sang không đúng định dạng", "Data sent in the wrong format"),
    "11": ("Giao dịch đã quá thời gian chờ thanh toán", "The payment deadline has passed"),
    "94": ("Mã đơn hàng đã được sử dụng", "This order reference was already used"),
    "404": ("Không tìm thấy giao dịch", "Transaction not found"),
}

_STYLE = """
body { font-family: system-ui, "Noto Sans", sans-serif; background: #eef3f8; margin: 0; color: #1d2939; }
header { background: #005baa; color: #fff; padding: .8rem 1.5rem; font-weight: 700; }
header span { color: #ed1c24; }
main { max-width: 34rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
dl { display: grid; grid-template-columns: 11rem 1fr; gap: .45rem 1rem; margin: 0 0 1.5rem; }
dt { color: #667085; } dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.amount { color: #005baa; font-size: 1.2rem; }
p.choose { margin: 0 0 .75rem; }
button { display: block; width: 100%; padding: .7rem; font: inherit; font-size: 1rem; border-radius: 6px;
         border: 1px solid transparent; cursor: pointer; margin: .5rem 0; }
.ok { background: #12b76a; color: #fff; } .fail { background: #f04438; color: #fff; }
.cancel { background: #fff; color: #344054; border-color: #d0d5dd; }
fieldset { border: 1px solid #eaecf0; border-radius: 6px; margin: 1rem 0; padding: .5rem 1rem 1rem; }
label { display: block; margin: .25rem 0; } select { width: 100%; padding: .45rem; font: inherit; font-size: .95rem; }
.error { background: #fef3f2; color: #b42318; padding: .75rem; border-radius: 6px; }
footer { color: #667085; font-size: .8rem; margin-top: 1.5rem; }
"""


def texts(locale: str) -> dict[str, str]:
    return TEXTS.get(locale, TEXTS["vn"])


def money(amount_vnd: int, locale: str) -> str:
    return f"{amount_vnd:,}".replace(",", texts(locale)["thousands"]) + " VND"


def _when(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M:%S") + " (GMT+7)"


def _page(locale: str, title: str, body: str) -> str:
    t = texts(locale)
    return (
        "<!doctype html>\n"
        f'<html lang="{t["lang"]}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header>VN<span>PAY</span> — {escape(t['brand'])}</header>\n"
        f"<main>\n{body}\n<footer>{escape(t['footer'])}</footer>\n</main>\n</body>\n</html>\n"
    )


def payment_page(txn: Transaction, merchant_name: str, action: str) -> str:
    t = texts(txn.locale)
    reasons = REASONS.get(txn.locale, REASONS["vn"])
    options = "\n".join(f'<option value="{code}">{escape(reasons[code])} ({code})</option>' for code in FAILURE_REASONS)
    body = f"""<h1>{escape(t["title"])}</h1>
<dl data-testid="order">
<dt>{escape(t["merchant"])}</dt><dd data-testid="merchant">{escape(merchant_name or txn.tmn_code)} ({escape(txn.tmn_code)})</dd>
<dt>{escape(t["txn_ref"])}</dt><dd data-testid="txn-ref">{escape(txn.txn_ref)}</dd>
<dt>{escape(t["amount"])}</dt><dd class="amount" data-testid="amount">{escape(money(txn.amount_vnd, txn.locale))}</dd>
<dt>{escape(t["order_info"])}</dt><dd data-testid="order-info">{escape(txn.order_info)}</dd>
<dt>{escape(t["expires"])}</dt><dd data-testid="expires">{escape(_when(txn.expire_date))}</dd>
</dl>
<form id="vnpay-choice" method="post" action="{escape(action)}">
<input type="hidden" name="ticket" value="{escape(txn.ticket)}">
<p class="choose">{escape(t["choose"])}</p>
<button type="submit" class="ok" name="choice" value="success" data-testid="pay-success">{escape(t["success"])}</button>
<fieldset>
<label for="reason">{escape(t["reason"])}</label>
<select id="reason" name="reason">
{options}
</select>
<button type="submit" class="fail" name="choice" value="failure" data-testid="pay-failure">{escape(t["failure"])}</button>
</fieldset>
<button type="submit" class="cancel" name="choice" value="cancel" data-testid="pay-cancel">{escape(t["cancel"])}</button>
</form>"""
    return _page(txn.locale, f"{t['title']} {txn.txn_ref}", body)


def error_page(code: str, detail: str | None, locale: str) -> str:
    t = texts(locale)
    vietnamese, english = PAGE_ERRORS[code]
    message = vietnamese if locale == "vn" else english
    detail_html = f'<p data-testid="error-detail">{escape(detail)}</p>\n' if detail else ""
    body = (
        f"<h1>{escape(t['error_title'])}</h1>\n"
        f'<p class="error" role="alert"><span data-testid="error-message">{escape(message)}</span> '
        f'({escape(t["error_code"])}: <span data-testid="error-code">{escape(code)}</span>)</p>\n'
        f"{detail_html}"
    )
    return _page(locale, t["error_title"], body)
