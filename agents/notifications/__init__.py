"""Notifications to citizens about their dossiers (SMS and email).

`rules` holds what is pure: recipients, SMS segment counting, the Vietnamese
message texts, and the outcome of a send attempt.  `sms` speaks to the
brand-name SMS gateway (docs/sms-simulator.md) and verifies its signed
delivery reports; `email` sends over SMTP.  Neither is wired to dossiers yet:
the outbox (one row per dossier, status and channel) will drive them.
"""
