"""The back office at /admin: piccolo-admin inside the portal's walls (docs/decisions/0027-back-office-piccolo-admin.md)."""
