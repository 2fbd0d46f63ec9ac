"""The demo cast of `make run` (plain constants: scripts/run.py reads them without Django)."""

PASSWORD = "vocalia-demo-2026"
STAFF_EMAIL = "staff@vocalia.localhost"
# A fixed TOTP secret so the demo's MFA works offline: `manage.py totp_code staff@vocalia.localhost`.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

CLIENTS = [
    {"slug": "demo", "name": "Cabinet Dentaire Sourire", "plan": "pro", "language": "fr",
     "timezone": "Europe/Paris", "currency": "EUR", "sector": "dental",
     "owner": "owner@demo.localhost", "member": "assistant@demo.localhost"},
    {"slug": "atlas", "name": "Riad Atlas Restaurant", "plan": "telephony", "language": "ary",
     "timezone": "Africa/Casablanca", "currency": "MAD", "sector": "restaurant",
     "owner": "owner@atlas.localhost", "member": ""},
]
