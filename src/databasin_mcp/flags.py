"""Command-line flags: values that may start with a dash, and usage errors on one line.

argparse reads `--auth-token -Xk3...` as a flag with no value followed by an unknown flag, and exits
with "expected one argument". Random tokens start with "-" often enough to matter (1 in 64 for
`secrets.token_urlsafe`), so every parser of ours goes through parse_flags.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn


class FlagParser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (argparse prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; '{self.prog} --help' lists the options.\n")


def parse_flags(parser: argparse.ArgumentParser, arguments: Sequence[str] | None) -> argparse.Namespace:
    """parser.parse_args, taking the word after a value flag as its value unless it is itself a flag."""
    if arguments is None:
        arguments = sys.argv[1:]
    # _actions is argparse's own list of what it was told; it is how a parser is inspected.
    takes_value = {
        option
        for action in parser._actions
        if action.nargs is None and action.option_strings
        for option in action.option_strings
        if option.startswith("--")
    }
    known = {option for action in parser._actions for option in action.option_strings}
    joined: list[str] = []
    for word in arguments:
        if joined and joined[-1] in takes_value and word.startswith("-") and word not in known and word != "--":
            joined[-1] = f"{joined[-1]}={word}"  # argparse reads "--flag=-x" as the value "-x"
        else:
            joined.append(word)
    return parser.parse_args(joined)
