"""What each kind of usage draws on, what the plan includes, what a unit costs the agency and what the client pays.

    kind          → metric (the pool and its monthly counter)    included by the plan
    voice_minute  → voice_minutes (widget voice)                  plan.voice_minutes
    call_minute   → voice_minutes (phone calls)                   plan.voice_minutes
    sms, whatsapp, email → messages                               plan.included_messages
    chat_turn     → chat_turns (a widget chat reply)              plan.chat_turns
    llm_token     → llm_tokens (only where the agency pays the model)  none
    conversation  → conversations (a hard cap, never billed)      plan.monthly_conversations

The client's price per unit: its own price for that pool (set by the agency), else the agency's cost × (1 +
markup %), else the plan's overage price. A pool without a price (0) is unlimited beyond the plan.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

KIND_METRIC = {
    "voice_minute": "voice_minutes", "call_minute": "voice_minutes",
    "sms": "messages", "whatsapp": "messages", "email": "messages",
    "chat_turn": "chat_turns", "llm_token": "llm_tokens", "conversation": "conversations",
}
BILLED_METRICS = ("voice_minutes", "messages", "chat_turns", "llm_tokens")
METRIC_INCLUDED = {"voice_minutes": "voice_minutes", "messages": "included_messages", "chat_turns": "chat_turns",
                   "conversations": "monthly_conversations"}
METRIC_OVERAGE = {"voice_minutes": "overage_minute_eur", "messages": "overage_message_eur",
                  "chat_turns": "overage_chat_turn_eur"}
UNLIMITED = 10**12
MICROS = Decimal(1_000_000)


def metric_for(kind: str) -> str:
    try:
        return KIND_METRIC[kind]
    except KeyError:
        raise ValueError(f"unknown usage kind {kind!r}; known: {', '.join(KIND_METRIC)}") from None


def included(plan: Any, metric: str) -> int:
    field = METRIC_INCLUDED.get(metric)
    return int(getattr(plan, field)) if field else 0


def unit_cost(metric: str) -> Decimal:
    return Decimal(str(settings.BILLING_UNIT_COSTS.get(metric, "0")))


def unit_price(plan: Any, account: Any, metric: str) -> Decimal:
    """The client's price for one unit beyond its plan (conversations are never billed)."""
    if metric not in BILLED_METRICS:
        return Decimal(0)
    own = account.price_for(metric) if account is not None else None
    if own is not None:
        return own
    if account is not None and account.markup_percent is not None:
        return unit_cost(metric) * (1 + account.markup_percent / 100)
    field = METRIC_OVERAGE.get(metric)
    return Decimal(str(getattr(plan, field))) if field else Decimal(0)


def micros(quantity: int | Decimal, price: Decimal) -> int:
    return int((Decimal(quantity) * price * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def units_affordable(balance_micros: int, price: Decimal) -> int:
    if price <= 0:
        return UNLIMITED
    return max(0, int(Decimal(balance_micros) / (price * MICROS)))


def pack_price(plan: Any, account: Any, minutes: int) -> Decimal:
    """A minute pack costs its minutes at the client's minute price (EUR, to the cent)."""
    return (unit_price(plan, account, "voice_minutes") * minutes).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
