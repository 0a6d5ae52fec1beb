"""What only the person gives, never the model: a password, and the confirmation of a delete.

The MCP tools meet it here, before the operation runs. A parameter marked `Secret` (params.py) is out of
the tool's schema, replaced by `ask_password` and `password_ref` (credentials/asking.py gets the password
from the person); a parameter marked `PersonConfirms` is the person's to set where the client can ask them
(confirming.py). The command line has neither: a person at a terminal types the password and the "y".
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from mcp_types import InputRequiredResult

from .config import Settings
from .confirming import DeleteConfirmation
from .credentials import Credentials
from .credentials.asking import PasswordAsker, PasswordRequest
from .errors import InvalidArgumentError
from .ops import Operation, Operations
from .params import AskPassword, PasswordRef, PersonConfirms, Secret
from .shaping import Answer
from .specs import ToolSpec
from .wording import AGENT_WORDS

# What a tool takes in place of a secret parameter: (name, declaration, default).
STAND_INS: tuple[tuple[str, Any, Any], ...] = (
    ("ask_password", AskPassword, False),
    ("password_ref", PasswordRef, None),
)


def marked(operation: Callable[..., Any], marker: type) -> str | None:
    """The parameter of `operation` whose declaration carries `marker` (Secret, PersonConfirms), if any."""
    hints = typing.get_type_hints(operation, include_extras=True)
    for name in inspect.signature(operation).parameters:
        if any(isinstance(item, marker) for item in getattr(hints.get(name), "__metadata__", ())):
            return name
    return None


@dataclass(frozen=True)
class Person:
    """Asks the person, for one server: its password pages and its way of asking the client."""

    credentials: Credentials
    passwords: PasswordAsker
    deletes: DeleteConfirmation

    @classmethod
    def for_server(cls, settings: Settings) -> Person:
        # Over stdio the page needs a listener of its own; over HTTP it is a path of the server's app.
        credentials = Credentials(loopback=settings.transport == "stdio")
        # Stateless streamable HTTP cannot carry a question to a 2025-11-25 client mid-call: its answer
        # would come on another request, to another transport (and perhaps another worker).
        back_channel = not (settings.transport == "streamable-http" and settings.stateless)
        return cls(
            credentials,
            PasswordAsker(credentials, back_channel, AGENT_WORDS),
            DeleteConfirmation(back_channel),
        )

    async def prepare(
        self, ctx: Context[Any, Any], spec: ToolSpec, arguments: dict[str, Any], ops: Operations
    ) -> dict[str, Any] | Answer | InputRequiredResult:
        """The operation's arguments, with what the person gave; or what to answer instead."""
        secret = marked(spec.operation, Secret)
        if secret is not None:
            request = PasswordRequest(arguments.pop("ask_password", False), arguments.pop("password_ref", None))
            if request.ask or request.ref is not None:
                if arguments.get(secret) is not None:
                    raise InvalidArgumentError(
                        f"Give {secret} or ask_password/password_ref, not both. Nothing was written."
                    )
                got = await self.passwords.password(ctx, spec.name, arguments, request, ops)
                if not isinstance(got, str):
                    return got
                arguments[secret] = got
        confirm = marked(spec.operation, PersonConfirms)
        if confirm is not None:
            operation: Operation = spec.operation
            confirmed = await self.deletes.confirm(ctx, operation, arguments, confirm, ops)
            if confirmed is not None:
                return confirmed
        return arguments
