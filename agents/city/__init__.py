"""The exchange with the city's one-stop system (Hệ thống thông tin giải quyết TTHC).

`client` speaks its API (docs/city-api.md) over HTTP; `callbacks` verifies the
signed status callbacks it sends back.
"""
