"""The command line's words: every tool as the `databasin` command that runs it (from the specs)."""

from __future__ import annotations

from ..models import ConnectorChanges
from ..specs import TOOLS
from ..wording import Command, CommandWords

# create reads the API's create body from a file: its arguments are that file's fields.
CREATE_FILE_FIELDS = {name: f'"{field.alias}"' for name, field in ConnectorChanges.model_fields.items() if field.alias}
_SPELLED = {
    "create_connector": CREATE_FILE_FIELDS,
    "update_connector": {"password": "--password-stdin/--password-prompt"},
    "delete_connector": {"confirm": "--force"},
}
_USAGE = {"create_connector": "FILE.json"}

COMMAND_WORDS = CommandWords(
    {spec.name: Command(spec.command, spec.operation, _SPELLED.get(spec.name), _USAGE.get(spec.name)) for spec in TOOLS}
)
