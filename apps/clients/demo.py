"""The demo cast of `make run` (plain constants: scripts/run.py reads them without Django)."""

PASSWORD = "vocalia-demo-2026"
STAFF_EMAIL = "staff@vocalia.localhost"
# A fixed TOTP secret so the demo's MFA works offline: `manage.py totp_code staff@vocalia.localhost`.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

CLIENTS = [
    {"slug": "demo", "name": "Cabinet Dentaire Sourire", "plan": "telephony", "language": "fr",
     "timezone": "Europe/Paris", "currency": "EUR", "sector": "dental",
     "owner": "owner@demo.localhost", "member": "assistant@demo.localhost",
     "business": {"description": "Cabinet dentaire à Lyon : soins, détartrage, implants, orthodontie, blanchiment",
                  "services": "soins dentaires, détartrage, implants, orthodontie, blanchiment",
                  "hours": "du lundi au vendredi de 9h à 18h, le samedi matin de 9h à 12h30",
                  "address": "12 rue de la République, 69002 Lyon", "phone": "+33 4 78 00 00 00"}},
    {"slug": "atlas", "name": "Riad Atlas Restaurant", "plan": "telephony", "language": "ary",
     "timezone": "Africa/Casablanca", "currency": "MAD", "sector": "restaurant",
     "owner": "owner@atlas.localhost", "member": "",
     "business": {"description": "مطعم مغربي تقليدي فمراكش: طاجين، كسكس، طنجية، وحجز الطابلات",
                  "services": "طاجين، كسكس، طنجية، حلويات مغربية، حجز الطابلات والمناسبات",
                  "hours": "كل نهار من 12 ديال الظهر حتى 11 ديال الليل",
                  "address": "درب الحمام، المدينة القديمة، مراكش", "phone": "+212 524 00 00 00"}},
]

# Each demo client's built-in (twin) phone number: "Call your agent" and `manage.py call_simulate` dial it.
PHONE_NUMBERS = {"demo": "+15550100001", "atlas": "+15550100002"}

# Real conversations for the demo dashboards (the home's "conversations this month" counts these rows):
# (channel, outcome, [(role, text), ...]).
CONVERSATIONS = {
    "demo": [
        ("widget_text", "answered", [("user", "Bonjour, vous êtes ouverts le samedi ?"),
                                     ("assistant", "Oui, le samedi matin de 9h à 12h30.")]),
        ("widget_voice", "booked", [("user", "Je voudrais un rendez-vous pour un détartrage mardi."),
                                    ("assistant", "C'est noté : mardi à 10h. À bientôt !")]),
        ("phone", "handover", [("user", "J'ai très mal à une dent depuis hier soir."),
                               ("assistant", "Je vous passe le cabinet tout de suite.")]),
    ],
    "atlas": [
        ("widget_text", "answered", [("user", "واش عندكم طنجية اليوم؟"),
                                     ("assistant", "إيه، كاينة طنجية كل نهار من 12 ديال الظهر.")]),
        ("phone", "booked", [("user", "بغيت نحجز طابلة لأربعة ديال الناس السبت فالليل."),
                             ("assistant", "تم الحجز: السبت على 8 ديال الليل لأربعة ديال الناس.")]),
    ],
}

# `make site` serves a page on another origin than the platform, with both demo clients' widgets.
DEMO_SITE_PORT = 8001
DEMO_SITE_ORIGINS = (f"http://localhost:{DEMO_SITE_PORT}", f"http://127.0.0.1:{DEMO_SITE_PORT}")

# Billing in the demo (offline twin): what the agency set for each client and a few months of usage, so the
# Billing page and the admin's margin report have something to show. Usage per day: (chat replies, voice
# minutes, messages); the days of the last three months cycle through the pattern.
BILLING = {
    "demo": {"card": True, "prices": {"voice_minutes": "0.30"}, "markup_percent": None, "pack_minutes": 100,
             "pattern": [(14, 6, 1), (22, 9, 2), (9, 3, 0), (30, 12, 3), (18, 7, 1)]},
    "atlas": {"card": False, "prices": {}, "markup_percent": "150", "pack_minutes": 0,
              "pattern": [(40, 25, 4), (55, 31, 6), (35, 18, 2)]},
}
