"""Money: fee quotes, payments through VNPay, confirmations, reconciliation, refunds, settlement.

Depends on `agents` and `portal.core`; `agents` never imports it (docs/payments.md).
"""
