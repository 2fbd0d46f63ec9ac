"""The catalogue of plans and features (seed: audit §3.3, five plans × 23 features).

Plans are rows in the database (staff edit them in the admin); this module holds the
feature vocabulary and the starting catalogue that `plans_sync` writes idempotently.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

FEATURES: dict[str, Any] = {
    "voice_widget": _("Voice in the web widget"),
    "voice_telephony": _("Phone calls answered by the agent"),
    "booking": _("Appointment booking"),
    "crm_sync": _("CRM synchronisation"),
    "webhooks": _("Outbound webhooks"),
    "custom_branding": _("Custom branding"),
    "cloud_voice": _("Premium cloud voices"),
    "call_recording": _("Call recording"),
    "ecom_cart_recovery": _("Abandoned-cart recovery"),
    "ecom_catalog": _("Product catalogue in the widget"),
    "voice_cloning": _("Voice cloning"),
    "expert_dashboard": _("Expert dashboard"),
    "api_access": _("REST API access"),
    "analytics": _("Analytics"),
    "knowledge_base": _("Knowledge base"),
    "lead_qualification": _("Lead qualification"),
    "sms": _("SMS messages"),
    "whatsapp": _("WhatsApp messages"),
    "email_notifications": _("E-mail notifications"),
    "multi_agent": _("Several agents"),
    "calendar_sync": _("Calendar synchronisation"),
    "outbound_calls": _("Outbound calls and callbacks"),
    "priority_support": _("Priority support"),
}

QUOTAS: dict[str, Any] = {
    "requests_per_minute": _("Requests per minute"),
    "monthly_conversations": _("Conversations per month"),
    "voice_minutes": _("Voice minutes per month"),
    "knowledge_documents": _("Knowledge-base documents"),
    "allowed_origins": _("Allowed website domains"),
}

_BASE = ["voice_widget", "knowledge_base", "lead_qualification", "email_notifications", "analytics"]
_PRO = _BASE + ["booking", "crm_sync", "webhooks", "custom_branding", "api_access", "sms", "multi_agent",
                "calendar_sync"]

CATALOGUE: list[dict[str, Any]] = [
    {"code": "starter", "name": "Starter", "monthly_price_eur": 49, "features": _BASE,
     "requests_per_minute": 20, "monthly_conversations": 500, "voice_minutes": 60,
     "knowledge_documents": 20, "allowed_origins": 2, "sort_order": 1,
     "included_messages": 100, "chat_turns": 2000, "overage_minute_eur": "0.25", "overage_message_eur": "0.08",
     "overage_chat_turn_eur": "0.02", "trial_days": 14, "trial_minutes": 30},
    {"code": "pro", "name": "Pro", "monthly_price_eur": 99, "features": _PRO,
     "requests_per_minute": 60, "monthly_conversations": 2000, "voice_minutes": 300,
     "knowledge_documents": 100, "allowed_origins": 5, "sort_order": 2,
     "included_messages": 500, "chat_turns": 8000, "overage_minute_eur": "0.20", "overage_message_eur": "0.07",
     "overage_chat_turn_eur": "0.015", "trial_days": 14, "trial_minutes": 60},
    {"code": "ecommerce", "name": "E-commerce", "monthly_price_eur": 129,
     "features": _PRO + ["ecom_cart_recovery", "ecom_catalog", "whatsapp"],
     "requests_per_minute": 60, "monthly_conversations": 5000, "voice_minutes": 300,
     "knowledge_documents": 200, "allowed_origins": 5, "sort_order": 3,
     "included_messages": 2000, "chat_turns": 20000, "overage_minute_eur": "0.20", "overage_message_eur": "0.06",
     "overage_chat_turn_eur": "0.01", "trial_days": 14, "trial_minutes": 60},
    {"code": "expert", "name": "Expert", "monthly_price_eur": 149,
     "features": _PRO + ["voice_cloning", "expert_dashboard", "cloud_voice"],
     "requests_per_minute": 120, "monthly_conversations": 10000, "voice_minutes": 1000,
     "knowledge_documents": 500, "allowed_origins": 10, "sort_order": 4,
     "included_messages": 2000, "chat_turns": 40000, "overage_minute_eur": "0.18", "overage_message_eur": "0.06",
     "overage_chat_turn_eur": "0.01", "trial_days": 14, "trial_minutes": 120},
    {"code": "telephony", "name": "Telephony", "monthly_price_eur": 199, "features": list(FEATURES),
     "requests_per_minute": 120, "monthly_conversations": 10000, "voice_minutes": 3000,
     "knowledge_documents": 500, "allowed_origins": 10, "sort_order": 5,
     "included_messages": 3000, "chat_turns": 40000, "overage_minute_eur": "0.15", "overage_message_eur": "0.05",
     "overage_chat_turn_eur": "0.01", "trial_days": 7, "trial_minutes": 120},
]


BILLING_FIELDS = ("included_messages", "chat_turns", "overage_minute_eur", "overage_message_eur",
                  "overage_chat_turn_eur", "trial_days", "trial_minutes")


def plans_sync(plan_model: Any) -> int:
    """Create the catalogue's plans that are missing; never overwrite what staff edited.

    Takes a historical model too (a migration's): fields it does not have yet are left out."""
    known = {field.name for field in plan_model._meta.get_fields()}
    created = 0
    for row in CATALOGUE:
        data = {key: value for key, value in row.items() if key in known}
        code = data.pop("code")
        _, was_created = plan_model.objects.get_or_create(code=code, defaults=data)
        created += int(was_created)
    return created


def plans_billing_fill(plan_model: Any) -> int:
    """Give the catalogue's existing plans their billing terms where they still have none (migration 0003)."""
    filled = 0
    for row in CATALOGUE:
        plan = plan_model.objects.filter(code=row["code"]).first()
        if plan is None or plan.chat_turns or plan.included_messages:
            continue
        for name in BILLING_FIELDS:
            setattr(plan, name, row[name])
        plan.save(update_fields=list(BILLING_FIELDS))
        filled += 1
    return filled
