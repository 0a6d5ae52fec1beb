"""The `databasin` command tree: one subcommand per MCP tool, each a thin layer over one operation."""

from __future__ import annotations

import inspect
import json
import os
import stat
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from pydantic import BaseModel, ValidationError, create_model

from .. import __version__
from ..client import MAX_ID
from ..config import validation_problems
from ..models import ConnectorChanges
from ..operations import Operations
from ..shaping import ALL_FIELDS, Answer
from .output import emit, progress_line
from .session import (
    EXIT_FAILED,
    EXIT_READ_ONLY,
    EXIT_TEST_FAILED,
    Failure,
    Session,
    Subject,
    UsageFailure,
    stderr_is_terminal,
    stdin_is_interactive,
)

EPILOG = """\b
Configuration is the server's: DATABASIN_API_URL or PUBLIC_API_URI; the token
from DATABASIN_TOKEN, the file DATABASIN_TOKEN_FILE, ./.token or
~/.databasin/.token; DATABASIN_PROJECT as the default --project.
'databasin-mcp doctor' checks it. DATABASIN_READ_ONLY=1 (or --read-only)
refuses every command that would change something: create, update, delete,
refresh.

\b
Output: tables and text for people; --json prints the data for scripts.
Errors go to stderr. Passwords come from a hidden prompt (--password-prompt)
or from stdin (--password-stdin), never from the command line.

\b
Exit codes:
  0  done
  1  the API refused or failed (not found, server error, unreachable),
     or a delete was declined
  2  usage: a bad option, argument or connector file; a delete without
     --force and no terminal to confirm it
  3  configuration: an invalid setting, no token, or the token was refused
  4  a connector test ran and failed
  5  refused in read-only mode: the command would change something, and
     nothing was sent

\b
Shell completion (bash; zsh_source and fish_source likewise):
  eval "$(_DATABASIN_COMPLETE=bash_source databasin)"
"""

ConnectorIdType = click.IntRange(1, MAX_ID)

# The MCP tools that change something: the server does not register them in read-only mode, and their
# commands are refused then. Spelled out here because importing tools.TOOLS loads the MCP SDK (2 s on every
# command); a test checks that the two agree.
WRITE_TOOLS = frozenset({"create_connector", "update_connector", "delete_connector", "refresh_connector_metadata"})


class ReadOnlyRefusal(Failure):
    exit_code = EXIT_READ_ONLY


class ToolCommand(click.Command):
    """A command that is the command-line form of one MCP tool (`tool`, required of every command).

    A writing tool's command is refused in read-only mode once its options are parsed: before it reads
    a password, asks for a confirmation or sends anything.
    """

    def __init__(self, *args: Any, tool: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tool = tool

    def invoke(self, ctx: click.Context) -> Any:
        if self.tool in WRITE_TOOLS:
            session = ctx.find_object(Session)
            if session is not None and session.settings().read_only:
                source = "--read-only" if session.read_only else "DATABASIN_READ_ONLY"
                raise ReadOnlyRefusal(
                    f"Refused: read-only mode ({source}) does not allow '{ctx.command_path}'; nothing was sent."
                )
        return super().invoke(ctx)


class ToolGroup(click.Group):
    """A group whose commands are ToolCommands, and whose subgroups are ToolGroups."""

    command_class = ToolCommand
    group_class = type


# --- shared options -------------------------------------------------------------------------------


def _split_fields(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter(f'give API field names separated by commas, or "{ALL_FIELDS}" for all')
    return names


def _json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print the result's data as JSON (for scripts).")(fn)


def _fields_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--fields",
        metavar="NAME,...",
        callback=_split_fields,
        help=f'API field names to show, comma-separated; "{ALL_FIELDS}" for all.',
    )(fn)


def _paging_options(default_limit: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)(fn)
        return click.option("--limit", type=click.IntRange(min=1), default=default_limit, show_default=True)(fn)

    return decorate


def _name_contains_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--name-contains", metavar="TEXT", help="Only names containing TEXT (any case/accents).")(fn)


def _password_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--password-stdin", is_flag=True, help="Read the password from stdin (e.g. from a secrets manager)."
    )(fn)
    return click.option("--password-prompt", is_flag=True, help="Ask for the password (hidden).")(fn)


def _read_password(from_stdin: bool, prompt: bool) -> str | None:
    """The password from stdin or a hidden prompt, or None; never from an argument."""
    if from_stdin and prompt:
        raise click.UsageError("Give either --password-stdin or --password-prompt, not both.")
    if from_stdin:
        password = sys.stdin.read().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: stdin holds no password.")
        return password
    if prompt:
        if not stdin_is_interactive():
            raise click.UsageError("--password-prompt needs a terminal; pipe the password in with --password-stdin.")
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return value
    return None


def _uncertain_change(connector_id: int) -> str:
    return f"The change may or may not have been applied: check with 'databasin connectors get {connector_id}'."


# --- the root ---------------------------------------------------------------------------------------


@click.group(name="databasin", cls=ToolGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="databasin")
@click.option("--api-url", metavar="URL", help="API base URL (default: DATABASIN_API_URL, else PUBLIC_API_URI).")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the API token (default: DATABASIN_TOKEN_FILE, ./.token, ~/.databasin/.token).",
)
@click.option(
    "--read-only",
    is_flag=True,
    default=None,
    help="Refuse every command that would change something (default: DATABASIN_READ_ONLY).",
)
@click.pass_context
def cli(ctx: click.Context, api_url: str | None, token_file: Path | None, read_only: bool | None) -> None:
    """Manage Databasin data connectors: the MCP server's tools, for people and scripts."""
    ctx.obj = Session(api_url=api_url, token_file=token_file, read_only=read_only)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The `databasin` console script."""
    cli.main(args=argv, prog_name="databasin")
    raise AssertionError("click's standalone mode always exits")  # pragma: no cover


@cli.command(tool="list_projects")
@click.option("--institution", type=click.IntRange(min=0), help="Only this institution's connectors.")
@_json_option
@click.pass_obj
def projects(session: Session, institution: int | None, as_json: bool) -> None:
    """Projects (project IDs) with their connector counts by type."""
    emit(session.run(lambda ops: ops.list_projects(institution_id=institution)), as_json=as_json)


# --- connectors -------------------------------------------------------------------------------------


@cli.group()
def connectors() -> None:
    """List, find, read, create, update, delete, test and refresh connectors."""


@connectors.command("list", tool="list_connectors")
@click.option("--project", metavar="PROJECT_ID", help="Project ID (internalID); default: DATABASIN_PROJECT.")
@click.option("--institution", type=click.IntRange(min=0), help="Only this institution's connectors.")
@_name_contains_option
@click.option("--type", "connector_type", metavar="TYPE", help="Only this connector type, e.g. RDBMS.")
@click.option("--active/--inactive", default=None, help="Only active, or only inactive, connectors.")
@_fields_option
@_paging_options(25)
@_json_option
@click.pass_obj
def list_connectors(
    session: Session,
    project: str | None,
    institution: int | None,
    name_contains: str | None,
    connector_type: str | None,
    active: bool | None,
    fields: list[str] | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """A project's connectors, a page at a time."""
    project = project or session.settings().project
    if not project:
        raise click.UsageError(
            "Missing option '--project' (or set DATABASIN_PROJECT); 'databasin projects' lists the project IDs."
        )
    answer = session.run(
        lambda ops: ops.list_connectors(
            project_id=project,
            institution_id=institution,
            name_contains=name_contains,
            connector_type=connector_type,
            active=active,
            fields=fields,
            limit=limit,
            offset=offset,
        )
    )
    emit(answer, as_json=as_json)


@connectors.command(tool="find_connectors")
@click.argument("words", nargs=-1, required=True)
@_fields_option
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@_json_option
@click.pass_obj
def find(session: Session, words: tuple[str, ...], fields: list[str] | None, limit: int, as_json: bool) -> None:
    """Find connectors in all projects by words of their name, host, database or type."""
    answer = session.run(lambda ops: ops.find_connectors(query=" ".join(words), fields=fields, limit=limit))
    emit(answer, as_json=as_json)


@connectors.command(tool="get_connector")
@click.argument("connector_id", type=ConnectorIdType)
@_fields_option
@_json_option
@click.pass_obj
def get(session: Session, connector_id: int, fields: list[str] | None, as_json: bool) -> None:
    """One connector's fields (secrets are never shown)."""
    answer = session.run(lambda ops: ops.get_connector(connector_id=connector_id, fields=fields), Subject(connector_id))
    emit(answer, as_json=as_json)


# The API's field names (the reference's create body) -> create_connector's arguments, taken from the
# model that maps them the other way; the file's types are create_connector's own.
_CREATE_PARAMETERS = inspect.signature(Operations.create_connector).parameters
_FILE_FIELDS = {
    field.alias: name
    for name, field in ConnectorChanges.model_fields.items()
    if field.alias and name in _CREATE_PARAMETERS
}
_TYPES = typing.get_type_hints(Operations.create_connector)
_ConnectorFile: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ConnectorFile",
    **{
        api_name: (_TYPES[name], ... if _CREATE_PARAMETERS[name].default is inspect.Parameter.empty else None)
        for api_name, name in _FILE_FIELDS.items()
    },
)


def _read_connector_file(file: IO[str]) -> dict[str, Any]:
    """create_connector's arguments from a JSON file with the API's field names."""
    name = file.name
    try:
        data = json.load(file)
    except ValueError as error:
        raise UsageFailure(f"{name} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise UsageFailure(f"{name} must hold one JSON object with the API's field names.")
    unknown = [key for key in data if key not in _FILE_FIELDS]
    if unknown:
        raise UsageFailure(
            f"{name}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"a connector file may have {', '.join(_FILE_FIELDS)}."
        )
    try:
        valid = _ConnectorFile.model_validate(data)
    except ValidationError as error:
        raise UsageFailure(f"{name}: {validation_problems(error)}") from None
    if "connectorPassword" in data:
        _note_if_others_can_read(file)
    return {_FILE_FIELDS[key]: value for key, value in valid.model_dump(exclude_none=True).items()}


def _note_if_others_can_read(file: IO[str]) -> None:
    """A password in a file is fine (files are not shell history), unless other users can read it."""
    try:
        mode = os.fstat(file.fileno()).st_mode
    except (OSError, ValueError):
        return
    if stat.S_ISREG(mode) and mode & (stat.S_IRGRP | stat.S_IROTH):
        click.echo(f"Note: {file.name} holds a password and other users can read it: chmod 600 it.", err=True)


@connectors.command(tool="create_connector")
@click.argument("file", type=click.File("r", encoding="utf-8"), metavar="FILE.json")
@click.option("--test", is_flag=True, help="Test the new connector's connection too.")
@click.option("--allow-duplicate", is_flag=True, help="Create it even if the project has one of that name.")
@_password_options
@_json_option
@click.pass_obj
def create(
    session: Session,
    file: IO[str],
    test: bool,
    allow_duplicate: bool,
    password_stdin: bool,
    password_prompt: bool,
    as_json: bool,
) -> None:
    """Create a connector from FILE.json ('-' for stdin): the API's create body, e.g.

    \b
    {"connectorName": "Production MySQL", "connectorType": "RDBMS",
     "connectorHost": "mysql.example.com", "connectorPort": "3306",
     "connectorDatabaseName": "analytics", "connectorUsername": "databasin_user",
     "connectorPassword": "...", "institutionID": 1, "internalID": "proj-001"}

    A connector of the same name in the project is answered instead, unless --allow-duplicate.
    """
    if password_stdin and file.name == "<stdin>":
        raise click.UsageError("The file is read from stdin, so the password cannot be: use --password-prompt.")
    arguments = _read_connector_file(file)
    password = _read_password(password_stdin, password_prompt)
    if password is not None:
        arguments["password"] = password
    project = arguments.pop("project_id", None) or session.settings().project
    if not project:
        raise click.UsageError(f'{file.name} has no "internalID" (the project) and DATABASIN_PROJECT is not set.')
    name = arguments["name"]
    retry = (
        f"check with 'databasin connectors find {name}' before running it again."
        if allow_duplicate
        else "running the same command again is safe: it answers with the existing connector instead of a duplicate."
    )
    answer = session.run(
        lambda ops: ops.create_connector(**arguments, project_id=project, test=test, allow_duplicate=allow_duplicate),
        Subject(uncertain_change=f"The connector may or may not have been created; {retry}"),
    )
    if answer.data.get("duplicate"):
        existing = answer.data["connector_id"]
        answer = Answer(
            f"Not created: {project} already has connector {existing} named {name!r}. "
            f"Use it ('databasin connectors get {existing}'), or add --allow-duplicate to create another.",
            answer.data,
        )
    emit(answer, as_json=as_json)
    if test:
        _exit_for_test(answer.data.get("test", {}).get("success"))


def _exit_for_test(success: bool | None) -> None:
    """Exit 4 when a connector test ran and failed, 1 when it could not run."""
    if success is False:
        raise click.exceptions.Exit(EXIT_TEST_FAILED)
    if success is None:
        raise click.exceptions.Exit(EXIT_FAILED)


@connectors.command(tool="update_connector")
@click.argument("connector_id", type=ConnectorIdType)
@click.option("--name", help="New connector name.")
@click.option("--host")
@click.option("--port", type=click.IntRange(1, 65535))
@click.option("--database", help="Database name.")
@click.option("--username")
@_password_options
@click.option("--auth-type", type=click.IntRange(min=0), help="connectorAuthType.")
@click.option("--max-connections", type=click.IntRange(min=1))
@click.option("--active/--inactive", default=None, help="Activate or deactivate the connector.")
@_json_option
@click.pass_obj
def update(
    session: Session,
    /,
    connector_id: int,
    password_stdin: bool,
    password_prompt: bool,
    as_json: bool,
    **given: Any,
) -> None:
    """Change only the given fields; prints each one before → after (passwords masked)."""
    changes = {key: value for key, value in given.items() if value is not None}
    password = _read_password(password_stdin, password_prompt)
    if password is not None:
        changes["password"] = password
    if not changes:
        raise click.UsageError(
            "Nothing to update: give at least one of --name, --host, --port, --database, --username, "
            "--password-stdin, --password-prompt, --auth-type, --max-connections, --active/--inactive."
        )
    answer = session.run(
        lambda ops: ops.update_connector(connector_id=connector_id, **changes),
        Subject(connector_id, uncertain_change=_uncertain_change(connector_id)),
    )
    emit(answer, as_json=as_json)


@connectors.command(tool="delete_connector")
@click.argument("connector_id", type=ConnectorIdType)
@click.option("--force", is_flag=True, help="Delete without asking.")
@_json_option
@click.pass_obj
def delete(session: Session, connector_id: int, force: bool, as_json: bool) -> None:
    """Delete a connector (pipelines using it will fail). Asks first, unless --force."""
    subject = Subject(connector_id, uncertain_change=_uncertain_change(connector_id))
    if not force:
        preview = session.run(lambda ops: ops.delete_connector(connector_id=connector_id, confirm=False), subject)
        what = _described(preview.data)
        if not stdin_is_interactive():
            raise UsageFailure(
                f"Not deleted: this would delete {what}, and there is no terminal to confirm it. Add --force."
            )
        if not click.confirm(f"Delete {what}? Pipelines using it will fail.", default=False, err=True):
            raise Failure("Not deleted.")
    answer = session.run(lambda ops: ops.delete_connector(connector_id=connector_id, confirm=True), subject)
    emit(answer, as_json=as_json)


def _described(data: dict[str, Any]) -> str:
    return (
        f"connector {data['connector_id']} {data['connectorName']!r} "
        f"({data['connectorType']}, project {data['internalID']})"
    )


@connectors.command("test", tool="test_connector")
@click.argument("connector_id", type=ConnectorIdType)
@click.option("--details", is_flag=True, help="Show everything the API says about the test.")
@_json_option
@click.pass_obj
def test_connector(session: Session, connector_id: int, details: bool, as_json: bool) -> None:
    """Test a connector's connection to its source (exit code 4 when the test fails)."""
    answer = session.run(
        lambda ops: ops.test_connector(connector_id=connector_id, details=details), Subject(connector_id)
    )
    emit(answer, as_json=as_json)
    _exit_for_test(answer.data["success"])


@connectors.command(tool="refresh_connector_metadata")
@click.argument("connector_id", type=ConnectorIdType)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show the time waited on stderr (default: when stderr is a terminal).",
)
@_json_option
@click.pass_obj
def refresh(session: Session, connector_id: int, progress: bool | None, as_json: bool) -> None:
    """Re-read catalogs, schemas and tables from the source (can take minutes); prints the counts."""
    terminal = stderr_is_terminal()
    shown = terminal if progress is None else progress
    with progress_line(f"Refreshing metadata of connector {connector_id}…", enabled=shown, in_place=terminal) as report:
        answer = session.run(
            lambda ops: ops.refresh_connector_metadata(connector_id=connector_id, progress=report),
            Subject(connector_id),
        )
    emit(answer, as_json=as_json)


# --- metadata -----------------------------------------------------------------------------------------


@cli.group()
def metadata() -> None:
    """Browse a connector's catalogs, schemas, tables and columns."""


def _metadata_subject(connector_id: int) -> Subject:
    return Subject(connector_id, metadata=True)


@metadata.command(tool="list_catalogs")
@click.argument("connector_id", type=ConnectorIdType)
@_name_contains_option
@_paging_options(50)
@_json_option
@click.pass_obj
def catalogs(
    session: Session, connector_id: int, name_contains: str | None, limit: int, offset: int, as_json: bool
) -> None:
    """A connector's catalogs (databases)."""
    answer = session.run(
        lambda ops: ops.list_catalogs(
            connector_id=connector_id, name_contains=name_contains, limit=limit, offset=offset
        ),
        _metadata_subject(connector_id),
    )
    emit(answer, as_json=as_json)


@metadata.command(tool="list_schemas")
@click.argument("connector_id", type=ConnectorIdType)
@click.option("--catalog", help="Only this catalog's schemas.")
@_name_contains_option
@_paging_options(50)
@_json_option
@click.pass_obj
def schemas(
    session: Session,
    connector_id: int,
    catalog: str | None,
    name_contains: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """A connector's schemas, optionally of one catalog."""
    answer = session.run(
        lambda ops: ops.list_schemas(
            connector_id=connector_id, catalog=catalog, name_contains=name_contains, limit=limit, offset=offset
        ),
        _metadata_subject(connector_id),
    )
    emit(answer, as_json=as_json)


@metadata.command(tool="list_tables")
@click.argument("connector_id", type=ConnectorIdType)
@click.option("--catalog")
@click.option("--schema")
@_name_contains_option
@_fields_option
@_paging_options(50)
@_json_option
@click.pass_obj
def tables(
    session: Session,
    connector_id: int,
    catalog: str | None,
    schema: str | None,
    name_contains: str | None,
    fields: list[str] | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """A connector's tables, optionally of one catalog and schema."""
    answer = session.run(
        lambda ops: ops.list_tables(
            connector_id=connector_id,
            catalog=catalog,
            schema=schema,
            name_contains=name_contains,
            fields=fields,
            limit=limit,
            offset=offset,
        ),
        _metadata_subject(connector_id),
    )
    emit(answer, as_json=as_json)


@metadata.command(tool="list_columns")
@click.argument("connector_id", type=ConnectorIdType)
@click.option("--table", required=True)
@click.option("--catalog")
@click.option("--schema")
@_name_contains_option
@_fields_option
@_paging_options(100)
@_json_option
@click.pass_obj
def columns(
    session: Session,
    connector_id: int,
    table: str,
    catalog: str | None,
    schema: str | None,
    name_contains: str | None,
    fields: list[str] | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """The columns of one table."""
    answer = session.run(
        lambda ops: ops.list_columns(
            connector_id=connector_id,
            table=table,
            catalog=catalog,
            schema=schema,
            name_contains=name_contains,
            fields=fields,
            limit=limit,
            offset=offset,
        ),
        _metadata_subject(connector_id),
    )
    emit(answer, as_json=as_json)
