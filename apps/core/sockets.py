"""Limits every WebSocket shares, enforced once, around all consumers (vocalia/asgi.py).

A message over `settings.WEBSOCKET_MAX_MESSAGE_BYTES` (1 MiB unless set) closes the socket with
1009, "message too big". Daphne enforces the same number while the frame arrives
(`--websocket-max-message-size`, `--websocket-max-frame-size`, passed by scripts/web.py), so a
client can never make a server buffer more; `MessageSizeLimit` is the same rule for any other server
(and for the tests, which drive the application directly). The consumer behind it sees a
`websocket.disconnect` with code 1009 and cleans up as for any other close.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

CLOSE_MESSAGE_TOO_BIG = 1009


def message_too_big(message: dict[str, Any], limit: int) -> bool:
    """Whether a `websocket.receive` message is over `limit` bytes on the wire (text encoded only if it may be)."""
    if message.get("bytes") is not None:
        return len(message["bytes"]) > limit
    text = message.get("text") or ""
    if len(text) > limit or len(text) * 4 <= limit:  # UTF-8 takes 1 to 4 bytes a character
        return len(text) > limit
    return len(text.encode("utf-8", "surrogatepass")) > limit


class MessageSizeLimit:
    """ASGI wrapper: an oversize message closes the socket (1009) and is never handed to the application."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        closed = False
        limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES

        async def guarded_receive() -> dict[str, Any]:
            nonlocal closed
            message = await receive()
            if message["type"] == "websocket.receive" and message_too_big(message, limit):
                if not closed:
                    closed = True
                    await send({"type": "websocket.close", "code": CLOSE_MESSAGE_TOO_BIG})
                return {"type": "websocket.disconnect", "code": CLOSE_MESSAGE_TOO_BIG}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal closed
            if closed:  # a turn still finishing after the close: nothing more goes out
                return
            closed = message["type"] == "websocket.close"
            await send(message)

        return await self.inner(scope, guarded_receive, guarded_send)
