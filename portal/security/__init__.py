"""Defences at the edge of the web application, before any handler runs (docs/security.md).

- `input_guard`: text that has no place in a request (control characters, invalid
  UTF-8, lone surrogates), bodies too large, JSON nested too deep: refused with 400/413.
- `headers`: security headers on every response (CSP, framing, nosniff, referrer,
  HSTS in production, no-store on dynamic answers).
- `hosts`: every absolute link from PORTAL_PUBLIC_URL; in production, other Host headers refused (400).
- `redirects`: where the portal may send a browser back to (its own paths only).
"""
