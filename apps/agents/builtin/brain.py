"""The built-in engine: intents, slot filling and knowledge answers, with no network and no key.

It speaks the `LLMProvider` protocol, so the engine treats it like any language model: on a
user message it either answers or asks for one tool call; on a tool result it phrases the
outcome. Its dialogue state (the flow in progress and the slots filled) lives in
`conversation.state`, which the engine saves at the end of every turn. Every sentence goes
through gettext: the five catalogues hold its phrasing in fr, en, es, ar and Darija.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.agents.builtin import nlu
from apps.integrations.llm.base import Done, ProviderConfig, TextDelta, ToolCallRequest, ToolSpec
from apps.knowledge.lexicon import expand_abbreviations
from apps.knowledge.text import query_terms

DAY_FORMATS = {"en": "l, F j", "es": r"l j \d\e F"}


def _call(name: str, arguments: dict[str, Any]) -> ToolCallRequest:
    return ToolCallRequest(id=f"call_{uuid.uuid4().hex[:12]}", name=name, arguments=arguments)


class BuiltinProvider:
    name = "builtin"
    # The language-model kind's offline twin (apps.integrations.registry): built per conversation by the engine.
    label = gettext_lazy("Built-in engine (offline)")
    offline = True
    connectable = False
    fields = ()

    def __init__(self, *, conversation: Any, agent: Any, client: Any) -> None:
        self.conversation = conversation
        self.agent = agent
        self.client = client
        self.zone = ZoneInfo(getattr(client, "timezone", "") or "UTC")
        self.state: dict[str, Any] = conversation.state if isinstance(conversation.state, dict) else {}
        conversation.state = self.state
        self.language = self.state.get("language") or conversation.language
        self.source: dict[str, Any] | None = None  # the passage the last answer was taken from

    # --- the protocol ----------------------------------------------------------------------------------

    def respond(self, *, messages: list[dict[str, Any]], tools: list[ToolSpec]) -> list[Any]:
        """The same events as `stream`, computed at once (the engine's one-hop path uses this)."""
        available = {tool.name for tool in tools}
        last = messages[-1] if messages else {"role": "user", "content": ""}
        with translation.override(self.language):
            if last["role"] == "tool":
                events = self._after_tool(last.get("name", ""), json.loads(last.get("content") or "{}"), available)
            else:
                events = self._on_user(str(last.get("content", "")), available)
        return [*events, Done("tool_calls" if any(isinstance(e, ToolCallRequest) for e in events) else "stop")]

    async def stream(self, *, config: ProviderConfig, messages: list[dict[str, Any]],
                     tools: list[ToolSpec]) -> AsyncIterator[Any]:
        for event in self.respond(messages=messages, tools=tools):
            yield event

    # --- understanding ---------------------------------------------------------------------------------

    def _today(self) -> Any:
        return timezone.now().astimezone(self.zone).date()

    def _on_user(self, text: str, available: set[str]) -> list[Any]:
        text = expand_abbreviations(text, self.language)  # "slt, un rdv jeudi stp": the words they stand for
        detected, confidence = nlu.detect_language(text, self.language)
        script_changed = (detected in {"ar", "ary"}) != (self.language in {"ar", "ary"})
        if detected != self.language and confidence >= 0.75 and (len(text.split()) >= 3 or script_changed):
            self.language = self.state["language"] = detected
            translation.activate(detected)
        found = nlu.intents(text, self.language)
        if "greet" in found:  # "Bonjour, quels sont vos horaires ?": the question is answered, not the greeting
            rest = nlu.without_greeting(text)
            if rest != text.strip() and (query_terms(rest) or nlu.is_question(rest, self.language)):
                text, found = rest, nlu.intents(rest, self.language)
        found = nlu.refine_intents(found, text, self.language,
                                   has_when=bool(nlu.extract_day(text, self._today()) or nlu.extract_time(text)))
        flows = {"book", "cancel", "reschedule", "lead", "ticket", "callback", "human"}
        if not found & flows and not self.state.get("flow") and nlu.asks_for_a_time(text, self.language, self._today()):
            found = found | {"book"}
        flow = self.state.get("flow")
        self._remember_contact(text)
        if "human" in found and "transfer_to_human" in available:
            self.state.pop("flow", None)
            return [_call("transfer_to_human", {"reason": text[:300]})]
        if flow and not ({"cancel", "reschedule"} & found and flow != "cancel"):
            if {"bye"} & found or (flow and "no" in found and self.state.get("asked") == "anything_else"):
                return self._end(available)
            if self._side_question(text, found) and "search_knowledge_base" in available:
                return [_call("search_knowledge_base", {"query": text[:500]})]
            return self._continue(flow, text, found, available)
        if {"cancel", "reschedule"} & found and "cancel_or_reschedule" in available:
            self.state.update(flow="cancel", mode="reschedule" if "reschedule" in found else "cancel")
            return self._continue("cancel", text, found, available)
        if "book" in found and self.agent.sector == "hotel" and "qualify_lead" in available:
            self.state.update(flow="stay")  # a hotel or a riad books a stay: arrival, nights, guests
            return self._continue("stay", text, found, available)
        if "book" in found and "book_appointment" in available:
            self.state.update(flow="booking")
            return self._continue("booking", text, found, available)
        if "lead" in found and "qualify_lead" in available and not nlu.is_question(text, self.language):
            self.state.update(flow="lead", need=text[:500])
            return self._continue("lead", text, found, available)
        if "ticket" in found and "create_ticket" in available:
            self.state.update(flow="ticket", subject=text[:200])
            return self._continue("ticket", text, found, available)
        if "callback" in found and "schedule_callback" in available:
            self.state.update(flow="callback")
            return self._continue("callback", text, found, available)
        if found & {"bye", "thanks"} and not nlu.is_question(text, self.language):
            if "bye" in found or self.state.get("asked") == "anything_else":
                return self._end(available)
            self.state["asked"] = "anything_else"
            return [TextDelta(_("You're welcome! Is there anything else I can do for you?"))]
        asked = self.state.get("asked")
        if asked == "offer_help":  # the visitor answers "the team, a callback or a message?"
            question = self.state.get("question", "")
            if nlu.wants_message(text) and "create_ticket" in available:
                self.state.update(flow="ticket", subject=question[:200] or text[:200], details=question or text)
                return self._continue("ticket", text, found, available)
            if "yes" in found and "no" not in found and "transfer_to_human" in available:
                return [_call("transfer_to_human", {"reason": (question or text)[:300]})]
        if asked == "anything_else" and found == {"yes"} and len(text.split()) <= 3:
            self.state["asked"] = "help"  # "oui" after "anything else?" is no new conversation
            return [TextDelta(_("Gladly: what can I do for you?"))]
        if found == {"greet"} or (found <= {"greet", "yes"} and len(text.split()) <= 3 and found):
            if (self.conversation.metadata or {}).get("greeted"):  # the channel already showed the greeting
                return [TextDelta(_("Hello! How can I help you?"))]
            return [TextDelta(self._greeting())]
        if "search_knowledge_base" in available and len(text.strip()) >= 3:
            self.state.update(asked="kb", question=text[:300])
            return [_call("search_knowledge_base", {"query": text[:500]})]
        return [TextDelta(self._cannot_help(available))]

    def _side_question(self, text: str, found: set[str]) -> bool:
        """A question asked in the middle of a flow that carries none of the flow's answers."""
        if not nlu.is_question(text, self.language) or found & {"yes", "no", "book", "cancel", "reschedule"}:
            return False
        today = self._today()
        carries = (nlu.extract_day(text, today) or nlu.extract_time(text) or nlu.extract_ordinal(text) is not None
                   or nlu.extract_email(text) or nlu.extract_phone(text) or nlu.extract_budget(text)[0] is not None
                   or nlu.extract_timeline_days(text) is not None or nlu.extract_reference(text))
        return not carries

    def _remember_contact(self, text: str) -> None:
        email, phone = nlu.extract_email(text), nlu.extract_phone(text)
        name = nlu.extract_name(text, self.language)
        if not name and self.state.get("asked") in {"name", "contact"}:
            # "Salma Bennani, 0661234567": the name beside the phone number or the e-mail
            rest = text.replace(email, " ") if email else text
            if phone:
                rest = nlu.PHONE_RE.sub(" ", rest.translate(nlu.ARABIC_DIGITS))
            if rest != text or self.state.get("asked") == "name":
                name = nlu.bare_name(rest.strip(" ,;.-:،"))
        if email:
            self.state["email"] = email
        if phone:
            self.state["phone"] = phone
        if name:
            self.state["name"] = name

    # --- flows -----------------------------------------------------------------------------------------

    def _continue(self, flow: str, text: str, found: set[str], available: set[str]) -> list[Any]:
        return getattr(self, f"_flow_{flow}")(text, found, available)

    def _flow_booking(self, text: str, found: set[str], available: set[str]) -> list[Any]:
        today = self._today()
        day, at = nlu.extract_day(text, today), nlu.extract_time(text)
        offered = self.state.get("offered") or []
        if not self.state.get("slot"):
            chosen = None
            if offered:
                index = nlu.extract_ordinal(text)
                if index is not None and index < len(offered):
                    chosen = offered[index]
                elif at is not None:
                    chosen = next((iso for iso in offered if self._local(iso).time() == at
                                   and (day is None or self._local(iso).date() == day)), None)
                elif "yes" in found and len(offered) == 1:
                    chosen = offered[0]
            if chosen:
                self.state["slot"] = chosen
            elif offered and day is None and at is None and not nlu.extract_period(text):
                self.state["asked"] = "slot"
                return [TextDelta(_("Which of these times suits you: %(slots)s?")
                                  % {"slots": self._list([self._say(iso) for iso in offered])})]
            else:
                if day is not None:
                    self.state["day"] = day.isoformat()
                if at is not None:
                    self.state["time"] = at.isoformat(timespec="minutes")
                period = nlu.extract_period(text)
                if period:
                    self.state["period"] = period
                arguments: dict[str, Any] = {"date": self.state["day"]} if self.state.get("day") else {"days": 7}
                if self.state.get("time"):
                    arguments["time"] = self.state["time"]
                elif self.state.get("period"):  # "Monday afternoon": enough of the day to reach the afternoon
                    arguments["limit"] = 40
                return [_call("check_availability", arguments)]
        if not self.state.get("name"):
            self.state["asked"] = "name"
            return [TextDelta(_("Perfect, %(when)s. What name should I put the booking under?")
                              % {"when": self._say(self.state["slot"])})]
        if not (self.state.get("phone") or self.state.get("email")):
            self.state["asked"] = "contact"
            return [TextDelta(_("Thank you, %(name)s. What phone number or e-mail can we reach you at?")
                              % {"name": self.state["name"]})]
        return [_call("book_appointment", {"start": self.state["slot"], "name": self.state["name"],
                                           "phone": self.state.get("phone", ""),
                                           "email": self.state.get("email", "")})]

    def _flow_stay(self, text: str, found: set[str], available: set[str]) -> list[Any]:
        """A stay request (hotel / riad sector): the arrival date, the nights (or the departure date), the
        guests, a name and a phone or an e-mail, then recorded for the team (`qualify_lead`) and confirmed
        with the dates written in the client's time zone."""
        today, asked = self._today(), self.state.get("asked")
        day = nlu.extract_day(text, today)
        if day is not None and not self.state.get("arrival"):
            if day < today:
                self.state["asked"] = "arrival"
                return [TextDelta(_("That date has already passed: on what date would you like to arrive?"))]
            self.state["arrival"] = day.isoformat()
        elif day is not None and date.fromisoformat(self.state["arrival"]) < day:  # the departure date
            self.state["nights"] = (day - date.fromisoformat(self.state["arrival"])).days
        nights = nlu.extract_nights(text) or (nlu.extract_count(text) if asked == "nights" else None)
        if nights and 1 <= nights <= 60:
            self.state["nights"] = nights
        guests = nlu.extract_guests(text) or (nlu.extract_count(text) if asked == "guests" else None)
        if guests and 1 <= guests <= 30:
            self.state["guests"] = guests
        if not self.state.get("arrival"):
            self.state["asked"] = "arrival"
            return [TextDelta(_("Gladly. On what date would you like to arrive?"))]
        if not self.state.get("nights"):
            self.state["asked"] = "nights"
            return [TextDelta(_("How many nights would you like to stay?"))]
        if not self.state.get("guests"):
            self.state["asked"] = "guests"
            return [TextDelta(_("For how many guests?"))]
        if not self.state.get("name"):
            self.state["asked"] = "name"
            return [TextDelta(_("Arrival %(arrival)s, departure %(departure)s. What name should I put the request "
                                "under?") % self._stay_dates())]
        if not (self.state.get("phone") or self.state.get("email")):
            self.state["asked"] = "contact"
            return [TextDelta(_("Thank you, %(name)s. What phone number or e-mail can we reach you at?")
                              % {"name": self.state["name"]})]
        dates = self._stay_dates()
        arrival = date.fromisoformat(self.state["arrival"])
        return [_call("qualify_lead", {
            "name": self.state["name"], "email": self.state.get("email", ""), "phone": self.state.get("phone", ""),
            "need": (f"Stay: arrival {arrival.isoformat()}, {self.state['nights']} night(s), departure "
                     f"{(arrival + timedelta(days=int(self.state['nights']))).isoformat()}, "
                     f"{self.state['guests']} guest(s)"),
            "timeline": f"{dates['arrival']} → {dates['departure']}", "timeline_days": (arrival - today).days})]

    def _stay_dates(self) -> dict[str, str]:
        """The stay's arrival and departure days written in the reply's language (calendar days of the
        client's time zone, where the visitor's "jeudi" was read)."""
        arrival = date.fromisoformat(self.state["arrival"])
        departure = arrival + timedelta(days=int(self.state["nights"]))

        def say(day: date) -> str:
            text = formats.date_format(day, DAY_FORMATS.get(self.language, "l j F"))
            return text.lower() if self.language in {"fr", "es"} else text
        return {"arrival": say(arrival), "departure": say(departure), "nights": str(self.state["nights"]),
                "guests": str(self.state.get("guests", ""))}

    def _flow_lead(self, text: str, found: set[str], available: set[str]) -> list[Any]:
        asked = self.state.get("asked")
        amount, currency = nlu.extract_budget(text)
        if amount is not None:
            self.state["budget"], self.state["currency"] = str(amount), currency or self.client.currency
        elif asked == "budget":
            self.state["budget"] = "unknown"
        decision = nlu.extract_decision_maker(text)
        if decision is None and asked == "authority" and found & {"yes", "no"}:
            decision = "yes" in found
        if decision is not None:
            self.state["authority"] = decision
        elif asked == "authority":
            self.state["authority"] = "unknown"
        days = nlu.extract_timeline_days(text)
        if days is not None:
            self.state["timeline_days"], self.state["timeline"] = days, text[:120]
        elif asked == "timeline":
            self.state["timeline_days"] = "unknown"
        if asked == "need":
            self.state["need"] = f"{self.state.get('need', '')} {text}".strip()[:1000]
        if len(self.state.get("need", "")) < 15 and asked != "need":
            self.state["asked"] = "need"
            return [TextDelta(_("Gladly. Can you tell me a little more about what you need?"))]
        if "budget" not in self.state:
            self.state["asked"] = "budget"
            return [TextDelta(_("What budget do you have in mind, roughly?"))]
        if "authority" not in self.state:
            self.state["asked"] = "authority"
            return [TextDelta(_("Are you the person who decides on this purchase?"))]
        if "timeline_days" not in self.state:
            self.state["asked"] = "timeline"
            return [TextDelta(_("When would you like to get started?"))]
        if not self.state.get("name"):
            self.state["asked"] = "name"
            return [TextDelta(_("Noted. What is your name?"))]
        if not (self.state.get("phone") or self.state.get("email")):
            self.state["asked"] = "contact"
            return [TextDelta(_("And what phone number or e-mail should our team use to reach you?"))]
        budget = self.state.get("budget")
        authority = self.state.get("authority")
        timeline_days = self.state.get("timeline_days")
        return [_call("qualify_lead", {
            "name": self.state["name"], "email": self.state.get("email", ""), "phone": self.state.get("phone", ""),
            "need": self.state.get("need", ""), "budget": None if budget in (None, "unknown") else budget,
            "currency": self.state.get("currency", ""),
            "is_decision_maker": None if authority in (None, "unknown") else authority,
            "timeline": self.state.get("timeline", ""),
            "timeline_days": None if timeline_days in (None, "unknown") else timeline_days})]

    def _flow_ticket(self, text: str, found: set[str], available: set[str]) -> list[Any]:
        if self.state.get("asked") == "details":
            self.state["details"] = text[:2000]
        if not self.state.get("details") and len(self.state.get("subject", "")) < 40:
            self.state["asked"] = "details"
            return [TextDelta(_("I'm sorry about that. Can you describe the problem in a few words?"))]
        if not (self.state.get("phone") or self.state.get("email")):
            self.state["asked"] = "contact"
            return [TextDelta(_("What phone number or e-mail can our team use to get back to you?"))]
        urgent = any(word in nlu.normalise(text + " " + self.state.get("subject", ""))
                     for word in ("urgent", "urgence", "urgente", "emergency", "عاجل", "مستعجل", "دغيا"))
        contact = " ".join(filter(None, [self.state.get("name", ""), self.state.get("phone", ""),
                                         self.state.get("email", "")]))
        return [_call("create_ticket", {"subject": self.state.get("subject", "")[:200],
                                        "description": self.state.get("details", self.state.get("subject", "")),
                                        "priority": "urgent" if urgent else "normal", "contact": contact})]

    def _flow_callback(self, text: str, found: set[str], available: set[str]) -> list[Any]:
        day, at = nlu.extract_day(text, self._today()), nlu.extract_time(text)
        if day and at:
            self.state["when"] = datetime.combine(day, at, self.zone).isoformat()
        if not self.state.get("phone"):
            self.state["asked"] = "phone"
            return [TextDelta(_("Of course. What number should we call you back on?"))]
        arguments = {"phone": self.state["phone"], "name": self.state.get("name", ""), "reason": text[:300]}
        if self.state.get("when"):
            arguments["when"] = self.state["when"]
        return [_call("schedule_callback", arguments)]

    def _flow_cancel(self, text: str, found: set[str], available: set[str]) -> list[Any]:
        reference = nlu.extract_reference(text) or self.state.get("reference", "")
        if not reference:
            self.state["asked"] = "reference"
            return [TextDelta(_("Certainly. What is your booking reference? It looks like RDV-ABC123."))]
        self.state["reference"] = reference
        arguments: dict[str, Any] = {"reference": reference}
        if self.state.get("mode") == "reschedule":
            day, at = nlu.extract_day(text, self._today()), nlu.extract_time(text)
            if day and at:
                arguments["new_start"] = datetime.combine(day, at, self.zone).isoformat()
            elif not self.state.get("new_start"):
                self.state["asked"] = "new_time"
                return [TextDelta(_("Which day and time would suit you instead?"))]
        return [_call("cancel_or_reschedule", arguments)]

    # --- after a tool ----------------------------------------------------------------------------------

    def _after_tool(self, name: str, result: dict[str, Any], available: set[str]) -> list[Any]:
        error = result.get("error")
        if name == "search_knowledge_base":
            answer = self._answer(result, available)
            if self.state.get("flow") == "booking" and self.state.get("offered"):
                answer += " " + _("Shall we go on with your booking?")
            return [TextDelta(answer)]
        if name == "check_availability":
            if error:  # a day that cannot be booked (past, too far ahead, or beyond what a calendar holds)
                for key in ("day", "time", "period", "offered"):
                    self.state.pop(key, None)
                self.state["asked"] = "day"
                return [TextDelta(_("I can't book on that day. Which other day suits you?"))]
            return [TextDelta(self._propose(result.get("slots") or [], available))]
        if name == "book_appointment":
            if error:
                self.state.pop("slot", None)
                self.state.pop("offered", None)
                return [TextDelta(_("I'm sorry, that time is no longer free (%(reason)s). Which other day suits you?")
                                  % {"reason": error})]
            self._done_flow()
            self.state["reference"] = result["reference"]  # "can I move it?" a moment later needs no reference
            if result.get("confirmation") == "sms":
                return [TextDelta(_("It's booked: %(when)s, under the name %(name)s. Your reference is "
                                    "%(reference)s. A confirmation SMS is on its way. Anything else I can do for you?")
                                  % {"when": self._say(result["start"]), "name": result["name"],
                                     "reference": result["reference"]})]
            return [TextDelta(_("It's booked: %(when)s, under the name %(name)s. Your reference is %(reference)s. "
                                "Anything else I can do for you?")
                              % {"when": self._say(result["start"]), "name": result["name"],
                                 "reference": result["reference"]})]
        if name == "qualify_lead":
            stay = self._stay_dates() if self.state.get("flow") == "stay" else None
            name_given = self.state.get("name", "")
            self._done_flow()
            if error:
                return [TextDelta(_("I couldn't record your request (%(reason)s).") % {"reason": error})]
            if stay:
                return [TextDelta(_("Thank you, %(name)s! I've noted your stay request: arrival %(arrival)s, "
                                    "departure %(departure)s, nights: %(nights)s, guests: %(guests)s. Our team "
                                    "will confirm the price and availability shortly. Anything else?")
                                  % {"name": name_given, **stay})]
            return [TextDelta(_("Thank you! I've passed your request on; someone from our team will contact you "
                                "shortly. Anything else?"))]
        if name == "create_ticket":
            self._done_flow()
            if error:
                return [TextDelta(_("I couldn't open a ticket (%(reason)s).") % {"reason": error})]
            return [TextDelta(_("I've opened ticket number %(number)s; our team will get back to you. Anything else?")
                              % {"number": result["ticket_id"]})]
        if name == "schedule_callback":
            self._done_flow()
            if error:
                return [TextDelta(_("I couldn't arrange the callback (%(reason)s).") % {"reason": error})]
            return [TextDelta(_("Done: we will call you back %(when)s.") % {"when": self._say(result["when"])})]
        if name == "cancel_or_reschedule":
            self._done_flow()
            if error:
                return [TextDelta(_("I couldn't find or change that booking (%(reason)s).") % {"reason": error})]
            if result.get("action") == "rescheduled":
                self.state["reference"] = result["reference"]
                return [TextDelta(_("Your appointment is moved to %(when)s. New reference: %(reference)s.")
                                  % {"when": self._say(result["start"]), "reference": result["reference"]})]
            self.state.pop("reference", None)
            return [TextDelta(_("Your appointment of %(when)s is cancelled.") % {"when": self._say(result["start"])})]
        if name == "transfer_to_human":
            self._done_flow()
            return [TextDelta(_("I'm passing you to a member of our team right away."))]
        if name == "end_conversation":
            return [TextDelta(self.agent.text(self.language, "closing") or _("Thank you, goodbye!"))]
        if name == "send_message":
            return [TextDelta(_("The message is sent.") if not error else _("The message could not be sent."))]
        return [TextDelta(_("Done."))]

    # --- phrasing --------------------------------------------------------------------------------------

    def _local(self, iso: str) -> datetime:
        moment = parse_datetime(iso)
        if moment is None:
            raise ValueError(iso)
        return moment.astimezone(self.zone)

    def _say(self, iso: str) -> str:
        moment = self._local(iso)
        clock = formats.date_format(moment, "g:i A" if self.language == "en" else "H:i")
        day = formats.date_format(moment, DAY_FORMATS.get(self.language, "l j F"))
        if self.language in {"fr", "es"}:  # day and month names take no capital there
            day = day.lower()
        return _("%(day)s at %(time)s") % {"day": day, "time": clock}

    def _list(self, items: list[str]) -> str:
        return ("، " if self.language in {"ar", "ary"} else ", ").join(items)

    def _propose(self, slots: list[str], available: set[str]) -> str:
        wanted_time = self.state.pop("time", None)
        period = self.state.pop("period", "")
        self.state.pop("day", None)
        if wanted_time:
            exact = [iso for iso in slots if self._local(iso).strftime("%H:%M") == wanted_time]
            if exact:
                self.state["slot"], self.state["offered"] = exact[0], exact
                if self.state.get("name") and (self.state.get("phone") or self.state.get("email")):
                    self.state["asked"] = "confirm"
                    return _("%(when)s is free. Shall I book it?") % {"when": self._say(exact[0])}
                self.state["asked"] = "name"
                return _("%(when)s is free. What name should I put the booking under?") % {"when": self._say(exact[0])}
        if period:
            slots = [iso for iso in slots if (self._local(iso).hour < 12) == (period == "morning")] or slots
        if not slots:
            self.state["asked"] = "day"
            return _("I have no free time that day. Would another day suit you?")
        choice = _spread(slots, 3)
        self.state["offered"] = choice
        self.state["asked"] = "slot"
        listing = self._list([self._say(iso) for iso in choice])
        if wanted_time:
            return _("That time is taken. I can offer: %(slots)s. Which one suits you?") % {"slots": listing}
        return _("I can offer: %(slots)s. Which one suits you?") % {"slots": listing}

    def _answer(self, result: dict[str, Any], available: set[str]) -> str:
        """The sentence(s) of the best passage that answer, in the passage's words; which passage and
        document they come from is kept for the dashboard (the engine stores `source` on the reply)."""
        passages = result.get("passages") or []
        if not passages:
            return self._cannot_help(available)
        best = passages[0]
        text = best.get("answer") or best["text"]
        title = best["document"]
        if text.startswith(title) and (title.rstrip().endswith(("?", "؟", ":")) or
                                       re.match(r"\s*[?؟:.\n]", text[len(title):])):
            # an FAQ entry repeats its question first; "Cancellation is free…" under "Cancellation" keeps it
            text = text[len(title):].strip(" ?؟:.\n") or text
        self.source = {key: best.get(key) for key in ("document", "document_id", "chunk_id", "text")}
        return _excerpt(text)

    def _greeting(self) -> str:
        placeholders = {key: value or "" for key, value in self.agent.placeholders(self.language).items()}
        greeting = self.agent.text(self.language, "greeting")
        try:
            return greeting.format_map(placeholders) if greeting else _("Hello! How can I help you?")
        except (KeyError, ValueError, IndexError):
            return greeting

    def _cannot_help(self, available: set[str]) -> str:
        # It offers what this agent can do on this plan ("yes" hands over, "a message" opens a ticket: offer_help)
        if "transfer_to_human" not in available:
            return _("I don't have that information, sorry.")
        self.state["asked"] = "offer_help"
        if {"schedule_callback", "create_ticket"} <= available:
            return _("I don't have that information. I can put you in touch with our team, arrange a callback "
                     "or take a message: what would you prefer?")
        if "create_ticket" in available:
            return _("I don't have that information. I can put you in touch with our team or take a message: "
                     "what would you prefer?")
        return _("I don't have that information. Would you like me to put you in touch with our team?")

    def _end(self, available: set[str]) -> list[Any]:
        self.state.clear()
        if "end_conversation" in available:
            return [_call("end_conversation", {"reason": "visitor said goodbye"})]
        return [TextDelta(self.agent.text(self.language, "closing") or _("Thank you, goodbye!"))]

    def _done_flow(self) -> None:
        keep = {key: self.state[key] for key in ("name", "phone", "email", "language", "reference")
                if key in self.state}
        self.state.clear()
        self.state.update(keep, asked="anything_else")


def _spread(slots: list[str], count: int) -> list[str]:
    """Up to `count` slots spread over the list (not three in a row at the same hour)."""
    if len(slots) <= count:
        return slots
    step = max(1, len(slots) // count)
    return [slots[i * step] for i in range(count)]


def _excerpt(text: str, limit: int = 320) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in (". ", "! ", "? ", "؟ ", "。"):
        position = cut.rfind(mark)
        if position > limit // 3:
            return cut[: position + 1]
    return cut.rsplit(" ", 1)[0] + "…"
