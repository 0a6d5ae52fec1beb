"""The response side of the middleware that may have to end a response itself (BodyDeadline, ShutdownGuard)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Send


class ResponseProgress:
    """Watches one request's response messages, so that it can be finished properly whatever the app did."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.complete = False
        self._superseded = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.started:
                self._superseded = True  # a second response to one request cannot be sent: end the first one
                await self.finish(None)
                return
            self.started = True
            self.starting(message)
        elif message["type"] == "http.response.body":
            if self._superseded or self.complete:
                return
            self.sending(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        await self._send(message)

    def starting(self, message: Message) -> None:
        """Called with the response's start message before it is sent."""

    def sending(self, body: bytes) -> None:
        """Called with each part of the response's body before it is sent."""

    async def finish(self, answer: list[Message] | None, last_events: bytes = b"") -> None:
        """End a started response (after `last_events`), or send `answer` if none has started.

        Without an answer, a response that has not started is left alone: an app that returned without
        answering is the server's to report.
        """
        if self.complete or not (self.started or answer):
            return
        self.complete = True
        if self.started:
            if last_events:
                await self._send({"type": "http.response.body", "body": last_events, "more_body": True})
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        for message in answer or []:
            await self._send(message)


def json_answer(status: int, content: Any, headers: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    """A whole JSON response, as the ASGI messages that send it."""
    body = json.dumps(content).encode()
    start_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return [
        {"type": "http.response.start", "status": status, "headers": start_headers + (headers or [])},
        {"type": "http.response.body", "body": body},
    ]
