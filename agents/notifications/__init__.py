"""Notifications to citizens about their dossiers (SMS and email), through an outbox.

`rules` holds what is pure: recipients, SMS segment counting, the Vietnamese
message texts, and the outcome of a send attempt. `sms` speaks to the
brand-name SMS gateway (docs/sms-simulator.md) and verifies its signed
delivery reports; `email` sends over SMTP. `models` and `outbox` are the
outbox (one row per dossier, kind of news and channel), `tasks` sends from it.
See docs/notifications.md.
"""
