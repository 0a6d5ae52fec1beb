"""How each front end names its own commands: tool calls for an agent, shell commands for a person.

Operations and error explanations state facts and next steps ("find IDs with <list connectors>"); the
`Words` of the front end that asked say them in its own terms. An agent reads
`find_connectors(query='x')` and `next: offset=25`; a person reads `'databasin connectors find x'`
and `next: --offset 25`. Nothing else in the package names a tool or a flag in prose.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .params import Cli


class _Unspecified:
    """A value to be filled in by whoever reads the step: `...` for an agent, the metavar for a person."""

    def __repr__(self) -> str:
        return "ANY"


class _UnspecifiedList(_Unspecified):
    def __repr__(self) -> str:
        return "ANY_LIST"


ANY: Any = _Unspecified()
ANY_LIST: Any = _UnspecifiedList()  # a list to be filled in: `[...]` for an agent


class Words(Protocol):
    """The vocabulary of one front end."""

    def call(self, tool: str, /, **arguments: Any) -> str:
        """How to run `tool` with these arguments: `get_connector(connector_id=7)`."""
        ...

    def argument(self, tool: str, name: str) -> str:
        """How an argument of `tool` is named: `project_id` / `--project`."""
        ...

    def setting(self, tool: str, name: str, value: Any) -> str:
        """How to give a value: `limit=12` / `--limit 12`, `allow_duplicate=true` / `--allow-duplicate`."""
        ...

    def again(self, tool: str) -> str:
        """How to repeat the call that just failed: `call create_connector again` / `run the command again`."""
        ...

    def do(self, tool: str, /, **arguments: Any) -> str:
        """An instruction to make a call: `call delete_connector(...)` / `run 'databasin connectors delete 7'`."""
        ...


def literal(value: Any) -> str:
    """A value as an agent writes it in a call: 'text', true, 12, ["a"]."""
    if value is ANY_LIST:
        return "[...]"
    if value is ANY:
        return "..."
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return repr(value)


@dataclass(frozen=True)
class Phrasing:
    """A front end's words for one tool, for text that is about that tool (its paging, its arguments)."""

    words: Words
    tool: str

    def argument(self, name: str) -> str:
        return self.words.argument(self.tool, name)

    def setting(self, name: str, value: Any) -> str:
        return self.words.setting(self.tool, name, value)


class ToolWords:
    """An agent's vocabulary: tool calls with their argument names."""

    def call(self, tool: str, /, **arguments: Any) -> str:
        return f"{tool}({', '.join(f'{name}={literal(value)}' for name, value in arguments.items())})"

    def argument(self, tool: str, name: str) -> str:
        return name

    def setting(self, tool: str, name: str, value: Any) -> str:
        return f"{name}={literal(value)}"

    def again(self, tool: str) -> str:
        return f"call {tool} again"

    def do(self, tool: str, /, **arguments: Any) -> str:
        return f"call {self.call(tool, **arguments)}"


@dataclass(frozen=True)
class Command:
    """A `databasin` command: its words, the operation it runs, and arguments it names its own way."""

    path: tuple[str, ...]  # ("connectors", "find")
    operation: Callable[..., Any]
    # Arguments given other than by their declared flag, e.g. create's fields read from a JSON file.
    spelled: Mapping[str, str] | None = None
    usage: str | None = None  # what follows the path when it is not derived from the arguments ("FILE.json")


class CommandWords:
    """A person's vocabulary: `databasin` command lines, with the flags the declarations give."""

    def __init__(self, commands: Mapping[str, Command]) -> None:
        self._commands = commands

    def call(self, tool: str, /, **arguments: Any) -> str:
        command = self._commands[tool]
        words = ["databasin", *command.path]
        if command.usage is not None:
            return f"'{' '.join([*words, command.usage])}'"
        declared = _declarations(command.operation)
        options: list[str] = []
        for name, value in arguments.items():
            cli = declared.get(name, Cli())
            if cli.positional or cli.words:
                unspecified = isinstance(value, _Unspecified)
                words.append(cli.metavar or name.upper() if unspecified else _shell_word(value, cli))
            else:
                options.append(self.setting(tool, name, value))
        return "'" + " ".join([*words, *(option for option in options if option)]) + "'"

    def argument(self, tool: str, name: str) -> str:
        command = self._commands[tool]
        if command.spelled and name in command.spelled:
            return command.spelled[name]
        cli = _declarations(command.operation).get(name, Cli())
        if cli.positional or cli.words:
            return cli.metavar or name.upper()
        return f"{_flag(name, cli)}/{cli.off_flag}" if cli.off_flag else _flag(name, cli)

    def setting(self, tool: str, name: str, value: Any) -> str:
        command = self._commands[tool]
        spelled = (command.spelled or {}).get(name)
        if spelled is not None and spelled.startswith("--"):  # a flag of the command's own
            return spelled if value is True else f"{spelled} {_shell_word(value, Cli())}"
        if spelled is not None:  # a field of the file the command reads
            given = "..." if isinstance(value, _Unspecified) else json.dumps(value, ensure_ascii=False)
            return f"{spelled}: {given}"
        cli = _declarations(command.operation).get(name, Cli())
        if cli.positional or cli.words:
            return cli.metavar or name.upper() if isinstance(value, _Unspecified) else _shell_word(value, cli)
        return self._option(command, name, value, cli)

    def again(self, tool: str) -> str:
        return "run the command again"

    def do(self, tool: str, /, **arguments: Any) -> str:
        return f"run {self.call(tool, **arguments)}"

    def _option(self, command: Command, name: str, value: Any, cli: Cli) -> str:
        flag = _flag(name, cli)
        if isinstance(value, _Unspecified):
            return f"{flag} {cli.metavar or name.upper()}"
        if isinstance(value, bool):
            return flag if value else (cli.off_flag or "")
        if isinstance(value, list | tuple):
            return f"{flag} {','.join(map(str, value))}"
        return f"{flag} {_shell_word(value, cli)}"


def _flag(name: str, cli: Cli) -> str:
    return cli.flag or "--" + name.replace("_", "-")


def _shell_word(value: Any, cli: Cli) -> str:
    text = str(value)
    if cli.words or not any(ch.isspace() or ch in "'\"$`\\" for ch in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _declarations(operation: Callable[..., Any]) -> dict[str, Cli]:
    """Each parameter's command-line declaration, from the Annotated metadata of its type."""
    hints = typing.get_type_hints(operation, include_extras=True)
    found: dict[str, Cli] = {}
    for name, hint in hints.items():
        metadata: Sequence[Any] = getattr(hint, "__metadata__", ())
        found[name] = next((item for item in metadata if isinstance(item, Cli)), Cli())
    return found


AGENT_WORDS = ToolWords()
