"""The one home for outside services (docs/integrations.md).

A folder per kind (llm, stt, tts, sms, whatsapp, email, telephony, billing); in each, `base.py` holds the
kind's small interface and every other module is one provider. `registry.py` maps a name to a provider,
`resolver.py` answers "which provider serves this client for this kind". Providers never touch the ORM;
the models here (connected accounts, deliveries) are the domain side of the seam.
"""
