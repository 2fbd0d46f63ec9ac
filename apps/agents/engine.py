"""The conversation engine: one user turn in, a stream of events out. Channel-blind.

    async for event in turn_stream(client=client, conversation_id=id, text="…"):
        Delta(text) | ToolCalled(id, name, arguments) | ToolReturned(id, name, ok, result)
        | HandOver(reason, phone, email) | Ended(reason) | TurnDone(message_id, text, latency_ms, provider)

The user message is stored before anything else; the reply is stored when it ends, or, when the
caller cancels the turn (barge-in), with what was said so far and `complete=False`. A language
model that fails or times out is logged on the conversation and the built-in engine answers instead.
All database work runs through `client_db`: inside the client's schema, on the DB thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.agents.builtin.brain import BuiltinProvider
from apps.agents.models import LANGUAGE_CODES
from apps.agents.tools import ToolContext, tool_effects, tools_for
from apps.billing.usage import usage_record, usage_require
from apps.conversations.models import Conversation, Message
from apps.conversations.services import (
    conversation_human_answering,
    conversation_set_outcome,
    message_add,
    visitor_message_add,
)
from apps.core.channels_tenancy import client_db, client_db_here
from apps.core.errors import InvalidInput, PayloadTooLarge, ProviderError, VocaliaError
from apps.integrations.llm.base import Done, ProviderConfig, TextDelta, ToolCallRequest
from apps.integrations.resolver import llm_for

logger = logging.getLogger(__name__)
MAX_TOOL_ROUNDS = 4
HISTORY_MESSAGES = 30
LANGUAGE_NAMES = {"fr": "French", "en": "English", "es": "Spanish", "ar": "Modern Standard Arabic",
                  "ary": "Moroccan Darija written in Arabic script"}


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class ToolCalled:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolReturned:
    id: str
    name: str
    ok: bool
    result: dict[str, Any]


@dataclass(frozen=True)
class HandOver:
    reason: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Ended:
    reason: str = ""


@dataclass(frozen=True)
class HumanAnswering:
    """A person of the team has taken the conversation over: the agent stays silent (the visitor's message is
    stored and shown in the inbox; the person's reply reaches the visitor on the conversation's channel)."""


@dataclass(frozen=True)
class TurnDone:
    message_id: int
    text: str
    latency_ms: int
    provider: str
    fallback: bool = False


EngineEvent = Delta | ToolCalled | ToolReturned | HandOver | Ended | HumanAnswering | TurnDone


@dataclass
class _Turn:
    conversation: Conversation
    agent: Any
    messages: list[dict[str, Any]]
    tools: list[Any]
    reply: list[str] = field(default_factory=list)
    tokens: int = 0  # the language model's tokens, when the agency pays for it (billed as llm_token)
    metadata: dict[str, Any] = field(default_factory=dict)  # stored on the reply: the sources it answered from


def _validate(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("The message is empty."))
    if len(text) > settings.AGENT_MAX_TURN_CHARS:
        raise PayloadTooLarge(_("The message is too long (%(max)d characters at most).")
                              % {"max": settings.AGENT_MAX_TURN_CHARS})
    return text


def _system_prompt(agent: Any, conversation: Conversation, client: Any) -> str:
    placeholders = {key: value or "-" for key, value in agent.placeholders(conversation.language).items()}
    try:
        instructions = agent.text(conversation.language, "instructions").format_map(placeholders)
    except (KeyError, ValueError, IndexError):
        instructions = agent.text(conversation.language, "instructions")
    now = timezone.localtime(timezone.now(), timezone=ZoneInfo(client.timezone))
    return (f"{instructions}\n\nAlways answer in {LANGUAGE_NAMES[conversation.language]}, briefly, as in a "
            f"spoken conversation. Now is {now:%A %Y-%m-%d %H:%M} ({client.timezone}). Use the tools to check "
            "availability before proposing times, to book, and to search the knowledge base; answer questions "
            "about the business only from the passages the knowledge base returns, and say which document the "
            "answer comes from. When you cannot help, offer a hand-over to a person.")


def _history(conversation: Conversation) -> list[dict[str, Any]]:
    rows = list(conversation.messages.exclude(role=Message.Role.EVENT).order_by("-id")[:HISTORY_MESSAGES])[::-1]
    messages: list[dict[str, Any]] = []
    for row in rows:
        if row.role == Message.Role.USER:
            messages.append({"role": "user", "content": row.text})
        elif row.role in (Message.Role.ASSISTANT, Message.Role.MEMBER):  # what the team said, after a hand-back
            messages.append({"role": "assistant", "content": row.text})
        elif row.role == Message.Role.TOOL:
            call = {"id": row.tool_call_id or f"call_{row.pk}", "name": row.tool_name, "arguments": row.tool_args or {}}
            if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
                messages[-1].setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
            messages.append({"role": "tool", "tool_call_id": call["id"], "name": row.tool_name,
                             "content": json.dumps(row.tool_result or {}, ensure_ascii=False)})
    return messages


def _load(conversation_id: int) -> Conversation:
    conversation = Conversation.objects.select_related("agent").filter(pk=conversation_id).first()
    if conversation is None:
        raise InvalidInput(_("Unknown conversation."))
    return conversation


def _check(conversation: Conversation) -> None:
    if conversation.ended is not None:
        raise InvalidInput(_("This conversation has ended."))
    if conversation.language not in LANGUAGE_CODES:
        raise InvalidInput(_("Unknown language: choose fr, en, es, ar or ary."))


def _begin(client: Any, conversation: Conversation, text: str, *, touch: bool = True, builtin: bool = False) -> _Turn:
    """Store the visitor's message and set the turn up. A language model gets the system prompt and the history;
    the built-in engine keeps its context in `conversation.state` and reads only the newest message (and the tool
    results of this turn, appended as they come): it gets that message alone, which saves the history's query and
    the prompt's rendering (the hours, formatted in the conversation's language) on every built-in turn."""
    visitor_message_add(conversation=conversation, text=text, touch=touch)
    agent = conversation.agent
    if builtin:
        messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    else:
        messages = [{"role": "system", "content": _system_prompt(agent, conversation, client)},
                    *_history(conversation)]
    return _Turn(conversation=conversation, agent=agent, messages=messages, tools=tools_for(agent=agent, client=client))


def _message_language(conversation: Any) -> str:
    """The language of the visitor's latest messages (the built-in engine follows it; a French page's
    visitor who types in Arabic searches the Arabic documents), else the conversation's."""
    state = conversation.state if isinstance(conversation.state, dict) else {}
    language = state.get("language") or ""
    return language if language in LANGUAGE_CODES else conversation.language


def _run_tool(client: Any, turn: _Turn, call: ToolCallRequest) -> tuple[bool, dict[str, Any]]:
    tool = next((t for t in turn.tools if t.name == call.name), None)
    if tool is None:
        ok, result = False, {"error": f"tool {call.name!r} is not available to this agent"}
    else:
        try:
            ok, result = True, tool.handler(ToolContext(client=client, agent=turn.agent,
                                                        conversation=turn.conversation,
                                                        language=_message_language(turn.conversation)),
                                               dict(call.arguments))
        except VocaliaError as error:
            ok, result = False, {"error": error.message, "code": error.code}
        except (TypeError, ValueError, KeyError, OverflowError) as error:
            ok, result = False, {"error": f"invalid arguments: {error}"}
    message_add(conversation=turn.conversation, role=Message.Role.TOOL, tool_name=call.name, tool_call_id=call.id,
                tool_args=call.arguments, tool_result=result, touch=False)
    if ok and tool is not None and tool.outcome:
        conversation_set_outcome(conversation=turn.conversation, outcome=tool.outcome)
    return ok, result


def _finish(turn: _Turn, text: str, provider: str, latency_ms: int, complete: bool) -> int:
    message = message_add(conversation=turn.conversation, role=Message.Role.ASSISTANT, text=text, provider=provider,
                          latency_ms=latency_ms, complete=complete, touch=False, metadata=turn.metadata)
    Conversation.objects.filter(pk=turn.conversation.pk).update(state=turn.conversation.state,
                                                                last_activity=timezone.now())
    return message.pk


def _log_fallback(turn: _Turn, provider: str, error: ProviderError) -> None:
    logger.warning("provider %s failed for conversation %s: %s", provider, turn.conversation.pk, error.message)
    message_add(conversation=turn.conversation, role=Message.Role.EVENT, provider=provider,
                text=f"provider {provider} failed ({'permanent' if error.permanent else 'transient'}): "
                     f"{error.message}; the built-in engine answered")


def _tool_events(client: Any, turn: _Turn, call: ToolCallRequest) -> list[EngineEvent]:
    """Run one tool call; the events it produces, in order."""
    ok, result = _run_tool(client, turn, call)
    events: list[EngineEvent] = [ToolCalled(call.id, call.name, call.arguments), ToolReturned(call.id, call.name, ok,
                                                                                             result)]
    turn.messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                          "content": json.dumps(result, ensure_ascii=False)})
    if ok and call.name == "search_knowledge_base" and result.get("passages"):  # what the reply may quote
        turn.metadata["sources"] = [{key: passage.get(key) for key in ("document", "document_id", "chunk_id")}
                                    for passage in result["passages"]]
    effects = tool_effects(call.name) if ok else ()
    if "handover" in effects:
        events.append(HandOver(result.get("reason", ""), result.get("phone", ""), result.get("email", "")))
    if "end" in effects:
        events.append(Ended())
    return events


def _builtin_rounds(client: Any, turn: _Turn, builtin: BuiltinProvider) -> list[EngineEvent]:
    """The built-in engine's part of a turn, synchronously: its replies and tool calls, in order."""
    events: list[EngineEvent] = []
    for _round in range(MAX_TOOL_ROUNDS + 1):
        calls: list[ToolCallRequest] = []
        for event in builtin.respond(messages=turn.messages, tools=[t.spec() for t in turn.tools]):
            if (delta := _absorb(turn, event, calls)) is not None:
                events.append(delta)
        if builtin.source:  # the passage the built-in engine's answer quotes
            turn.metadata["source"], builtin.source = builtin.source, None
        if not calls:
            break
        _calls_record(turn, calls, content="")
        for call in calls:
            events.extend(_tool_events(client, turn, call))
    return events


# One tool round, shared by both loops (the built-in engine's, synchronous in one database hop, and a language
# model's, streamed): what a provider event does to the turn, and how the round's tool calls are recorded.

def _absorb(turn: _Turn, event: Any, calls: list[ToolCallRequest]) -> Delta | None:
    """Text is kept for the reply and passed on; a tool call waits for the end of the round."""
    if isinstance(event, TextDelta) and event.text:
        turn.reply.append(event.text)
        return Delta(event.text)
    if isinstance(event, ToolCallRequest):
        calls.append(event)
    return None


def _calls_record(turn: _Turn, calls: list[ToolCallRequest], *, content: str) -> None:
    turn.messages.append({"role": "assistant", "content": content,
                          "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]})


def _close(turn: _Turn, provider: str, started: float, fallback: bool,
           events: list[EngineEvent]) -> list[EngineEvent]:
    reply = "".join(turn.reply).strip()
    latency = round((time.perf_counter() - started) * 1000)
    message_id = _finish(turn, reply, provider, latency, True)
    if turn.conversation.channel == Conversation.Channel.WIDGET_TEXT:
        usage_record(kind="chat_turn", quantity=1, key=f"turn:{message_id}")
    if turn.tokens:
        usage_record(kind="llm_token", quantity=turn.tokens, key=f"tokens:{message_id}")
    if any(isinstance(event, Ended) for event in events):
        conversation_set_outcome(conversation=turn.conversation, outcome=Conversation.Outcome.ENDED)
    return [TurnDone(message_id=message_id, text=reply, latency_ms=latency, provider=provider, fallback=fallback)]


def _open(client: Any, conversation: Conversation, text: str, started: float) -> tuple[_Turn, Any, list[EngineEvent]]:
    """Begin the turn. With the built-in engine, the whole turn happens here, in one database hop and one
    transaction (no savepoint: every row of the turn commits together, the conversation is updated once).

    The visitor's message is committed whatever happens: a language model's turn goes on after this commit;
    a built-in turn that fails is rolled back whole, and the visitor's message stored again on its own
    (a rare path that costs a second transaction, instead of a savepoint on every turn)."""
    if conversation_human_answering(conversation):
        return _silent(conversation, text, started)
    if conversation.channel == Conversation.Channel.WIDGET_TEXT:
        usage_require(client=client, kind="chat_turn")  # the cap, before anything is stored or generated
    _check(conversation)
    chosen = llm_for(client=client, agent=conversation.agent)
    if chosen is not None:
        with transaction.atomic():
            return _begin(client, conversation, text), chosen, []
    try:
        with transaction.atomic(), translation.override(conversation.language):
            turn = _begin(client, conversation, text, touch=False, builtin=True)  # _finish writes last_activity
            builtin = BuiltinProvider(conversation=turn.conversation, agent=turn.agent, client=client)
            events = _builtin_rounds(client, turn, builtin)
            return turn, None, events + _close(turn, "builtin", started, False, events)
    except Exception as error:
        _keep_visitor_message(conversation, text, error)
        raise


def _keep_visitor_message(conversation: Conversation, text: str, error: Exception) -> None:
    """The built-in turn failed and was rolled back: store the visitor's message alone (the row as it is in the
    database, not as the failed turn left it in memory)."""
    logger.error("built-in turn failed for conversation %s: %r", conversation.pk, error)
    try:
        conversation.refresh_from_db()
        with transaction.atomic():
            visitor_message_add(conversation=conversation, text=text)
    except Exception:  # noqa: BLE001 - the turn's own error is the one the caller gets
        logger.exception("the visitor's message of conversation %s could not be kept", conversation.pk)


def _silent(conversation: Conversation, text: str, started: float) -> tuple[_Turn, Any, list[EngineEvent]]:
    """A person answers this conversation: store the visitor's message, and the agent says nothing."""
    if conversation.ended is not None:
        raise InvalidInput(_("This conversation has ended."))
    with transaction.atomic():
        message = visitor_message_add(conversation=conversation, text=text)
    latency = round((time.perf_counter() - started) * 1000)
    turn = _Turn(conversation=conversation, agent=conversation.agent, messages=[], tools=[])
    return turn, None, [HumanAnswering(), TurnDone(message_id=message.pk, text="", latency_ms=latency,
                                                   provider="human")]


@dataclass
class OpenedTurn:
    """A turn whose first database hop is done (`turn_open`); `turn_continue` produces its events."""

    turn: _Turn
    chosen: Any
    events: list[EngineEvent]
    started: float


def turn_open(*, client: Any, conversation: Conversation, text: str) -> OpenedTurn:
    """The turn's first database hop, synchronously, inside the client's schema: the caller's own hop (an HTTP
    view that has just checked the request and loaded the conversation, with its agent, in the same thread)
    saves one. With the built-in engine, the whole turn happens here."""
    started = time.perf_counter()
    turn, chosen, events = _open(client, conversation, _validate(text), started)
    return OpenedTurn(turn=turn, chosen=chosen, events=events, started=started)


async def turn_stream(*, client: Any, conversation_id: int, text: str) -> AsyncIterator[EngineEvent]:
    opened = await client_db(client, lambda: turn_open(client=client, conversation=_load(conversation_id),
                                                       text=text))
    async for event in turn_continue(client=client, opened=opened):
        yield event


async def turn_continue(*, client: Any, opened: OpenedTurn) -> AsyncIterator[EngineEvent]:
    turn, chosen, started = opened.turn, opened.chosen, opened.started
    if chosen is None:
        for event in opened.events:
            yield event
        return
    builtin = BuiltinProvider(conversation=turn.conversation, agent=turn.agent, client=client)
    provider, config, name, fallback = chosen[0], chosen[1], chosen[0].name, False
    ended = False
    try:
        with translation.override(turn.conversation.language):
            for _round in range(MAX_TOOL_ROUNDS + 1):
                calls: list[ToolCallRequest] = []
                try:
                    async with asyncio.timeout(config.timeout_s if provider is not builtin else None):
                        async for event in provider.stream(config=config, messages=turn.messages,
                                                          tools=[t.spec() for t in turn.tools]):
                            if isinstance(event, Done):
                                if config.agency_pays:
                                    turn.tokens += sum(int(n) for n in event.usage.values())
                                break
                            if (delta := _absorb(turn, event, calls)) is not None:
                                yield delta
                except (ProviderError, TimeoutError) as exc:
                    if provider is builtin:
                        raise
                    error = exc if isinstance(exc, ProviderError) else ProviderError("timed out")
                    await client_db(client, _log_fallback, turn, name, error)
                    provider, config, name, fallback = builtin, ProviderConfig(model="builtin"), "builtin", True
                    continue
                if not calls:
                    break
                _calls_record(turn, calls, content="".join(turn.reply))
                for call in calls:
                    for event in await client_db(client, _tool_events, client, turn, call):
                        ended = ended or isinstance(event, Ended)
                        yield event
        for event in await client_db(client, _close, turn, name, started, fallback,
                                     [Ended()] if ended else []):
            yield event
    except (asyncio.CancelledError, GeneratorExit):
        # barge-in or a closed socket: keep what was said, marked incomplete
        partial = "".join(turn.reply).strip()
        latency = round((time.perf_counter() - started) * 1000)
        await asyncio.shield(client_db(client, _finish, turn, partial, name, latency, False))
        raise


async def turn_collect(*, client: Any, conversation_id: int, text: str) -> list[EngineEvent]:
    return [event async for event in turn_stream(client=client, conversation_id=conversation_id, text=text)]


def turn_run(*, client: Any, conversation_id: int, text: str) -> list[EngineEvent]:
    """The whole turn, for sync callers (dashboard views, the phone's gather webhooks, inbound messages, tests).

    The first database hop runs in the caller's thread (`client_db_here`: what `client_db` does, without
    starting an event loop to hop back to this same thread); with the built-in engine that is the whole turn.
    A language model's turn then streams on an event loop, as `turn_collect` does."""
    opened = client_db_here(client, lambda: turn_open(client=client, conversation=_load(conversation_id), text=text))
    if opened.chosen is None:
        return list(opened.events)
    return async_to_sync(_continue_collect)(client=client, opened=opened)


async def _continue_collect(*, client: Any, opened: OpenedTurn) -> list[EngineEvent]:
    return [event async for event in turn_continue(client=client, opened=opened)]
