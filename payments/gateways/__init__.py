"""Payment gateways: the wire protocols of the providers we collect fees through (VNPay today)."""
