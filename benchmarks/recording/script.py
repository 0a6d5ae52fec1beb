"""What a stand-in model says at each turn of a conversation: call a tool, then answer and stop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """The model asks for one tool call."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Say:
    """The model answers in text and ends its turn."""

    text: str


Step = ToolCall | Say

DONE = Say("Done.")


@dataclass(frozen=True)
class Script:
    """The steps of one conversation; the n-th model turn (0-based) takes the n-th step, then DONE."""

    steps: Sequence[Step]

    def step(self, turn: int) -> Step:
        return self.steps[turn] if turn < len(self.steps) else DONE

    @classmethod
    def call_then_answer(cls, name: str, arguments: Mapping[str, Any]) -> Script:
        """Turn 1 calls the tool; turn 2, once its result is back, answers briefly and stops."""
        return cls((ToolCall(name, dict(arguments)), Say("Here is what the tool answered.")))
