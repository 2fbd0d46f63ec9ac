"""`python -m scripts.daphne_serve …`: daphne, with the same arguments, failing a WebSocket cleanly.

When a client breaks the protocol (a message over `--websocket-max-message-size`, a frame over
`--websocket-max-frame-size`), autobahn's default is to drop the TCP connection: the browser sees 1006
and no reason. Here the server sends the close frame instead (1009, "message too big"), waits for the
closing handshake (autobahn's `closeHandshakeTimeout`, 1 s) and then drops. The payload still being
received is discarded as it arrives either way: nothing over the limit is ever buffered.
"""

from __future__ import annotations

from daphne import server  # first: it installs the asyncio reactor
from daphne.cli import CommandLineInterface
from daphne.ws_protocol import WebSocketFactory


class CleanFailingWebSocketFactory(WebSocketFactory):
    def resetProtocolOptions(self) -> None:  # noqa: N802 (autobahn's name)
        super().resetProtocolOptions()
        self.failByDrop = False


server.WebSocketFactory = CleanFailingWebSocketFactory  # type: ignore[misc]

if __name__ == "__main__":
    CommandLineInterface.entrypoint()
