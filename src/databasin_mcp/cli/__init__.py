"""`databasin`: the connector operations on the command line, for people and for scripts.

The same configuration, client, operations and shaping as the MCP server: each
subcommand calls one `Operations` method and prints its `Answer` (a table or
the compact text for a person, `Answer.data` as JSON with `--json`).
"""

from .commands import cli, main

__all__ = ["cli", "main"]
