"""`databasin connectors create FILE.json`: the API's create body read into create_connector's arguments."""

from __future__ import annotations

import inspect
import json
import os
import stat
import typing
from typing import IO, Any

import click
from pydantic import BaseModel, ValidationError, create_model

from ..config import validation_problems
from ..models import ConnectorChanges
from ..ops import ConnectorWrites
from .session import UsageFailure

# The API's field names (the reference's create body) -> create_connector's arguments, taken from the
# model that maps them the other way; the file's types are create_connector's own declarations.
_CREATE = ConnectorWrites.create_connector
_PARAMETERS = inspect.signature(_CREATE).parameters
FILE_FIELDS = {
    field.alias: name for name, field in ConnectorChanges.model_fields.items() if field.alias and name in _PARAMETERS
}
_TYPES = typing.get_type_hints(_CREATE, include_extras=True)
_ConnectorFile: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ConnectorFile",
    **{
        api_name: (_TYPES[name], ... if _PARAMETERS[name].default is inspect.Parameter.empty else None)
        for api_name, name in FILE_FIELDS.items()
    },
)


def read_connector_file(file: IO[str]) -> dict[str, Any]:
    """create_connector's arguments from a JSON file with the API's field names."""
    name = file.name
    try:
        data = json.load(file)
    except ValueError as error:
        raise UsageFailure(f"{name} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise UsageFailure(f"{name} must hold one JSON object with the API's field names.")
    unknown = [key for key in data if key not in FILE_FIELDS]
    if unknown:
        raise UsageFailure(
            f"{name}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"a connector file may have {', '.join(FILE_FIELDS)}."
        )
    try:
        valid = _ConnectorFile.model_validate(data)
    except ValidationError as error:
        raise UsageFailure(f"{name}: {validation_problems(error)}") from None
    if "connectorPassword" in data:
        _note_if_others_can_read(file)
    return {FILE_FIELDS[key]: value for key, value in valid.model_dump(exclude_none=True).items()}


def _note_if_others_can_read(file: IO[str]) -> None:
    """A password in a file is fine (files are not shell history), unless other users can read it."""
    try:
        mode = os.fstat(file.fileno()).st_mode
    except (OSError, ValueError):
        return
    if stat.S_ISREG(mode) and mode & (stat.S_IRGRP | stat.S_IROTH):
        click.echo(f"Note: {file.name} holds a password and other users can read it: chmod 600 it.", err=True)
