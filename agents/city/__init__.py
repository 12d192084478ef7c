"""The exchange with the city's one-stop system (Hệ thống thông tin giải quyết TTHC).

`wire` is its format (the dossier we send, the status reports it sends back),
`client` speaks its API (docs/city-api.md) over HTTP, `callbacks` verifies the
signed status callbacks it pushes to us.
"""
