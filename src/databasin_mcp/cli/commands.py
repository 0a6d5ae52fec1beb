"""The `databasin` command tree: one command per tool, derived from the tool's spec and operation.

A read tool's command is made whole from its operation's signature (cli/derive.py); the commands that
change something add what a person needs around the same derived parameters: a connector file, a
password from stdin or a hidden prompt, a confirmation, an exit code for a failed test.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from .. import __version__
from ..specs import BY_NAME, TOOLS, ToolSpec
from .connector_file import read_connector_file
from .derive import parameters_for
from .output import emit, progress_line
from .session import (
    EXIT_FAILED,
    EXIT_READ_ONLY,
    EXIT_TEST_FAILED,
    Failure,
    Session,
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

# What a command does with its parsed arguments: run the operation and print, or more (see below).
Runner = Callable[[Session, ToolSpec, dict[str, Any], bool], None]


class ReadOnlyRefusal(Failure):
    exit_code = EXIT_READ_ONLY


class ToolCommand(click.Command):
    """The command-line form of one tool. A writing tool's command is refused in read-only mode once its
    options are parsed: before it reads a password, asks for a confirmation or sends anything."""

    def __init__(self, *args: Any, spec: ToolSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec

    def invoke(self, ctx: click.Context) -> Any:
        if self.spec.writes:
            session = ctx.find_object(Session)
            if session is not None and session.settings().read_only:
                source = "--read-only" if session.read_only else "DATABASIN_READ_ONLY"
                raise ReadOnlyRefusal(
                    f"Refused: read-only mode ({source}) does not allow '{ctx.command_path}'; nothing was sent."
                )
        return super().invoke(ctx)


JSON_OPTION = click.Option(["--json", "as_json"], is_flag=True, help="Print the result's data as JSON (for scripts).")


def tool_command(
    spec: ToolSpec,
    runner: Runner | None = None,
    *,
    skip: Sequence[str] = (),
    extra: Sequence[click.Parameter] = (),
    help: str | None = None,
) -> ToolCommand:
    """The command for `spec`: its operation's parameters (less `skip`), then `extra` ones and --json."""

    def callback(as_json: bool, **given: Any) -> None:
        session = click.get_current_context().find_object(Session)
        assert session is not None
        arguments = {name: " ".join(value) if isinstance(value, tuple) else value for name, value in given.items()}
        (runner or _print)(session, spec, arguments, as_json)

    doc = spec.operation.__doc__ or spec.description
    return ToolCommand(
        spec.command[-1],
        callback=callback,
        params=[*parameters_for(spec.operation, skip=skip), *extra, JSON_OPTION],
        help=help or doc,
        spec=spec,
    )


def _print(session: Session, spec: ToolSpec, arguments: dict[str, Any], as_json: bool) -> None:
    emit(session.run(spec, arguments), as_json=as_json)


# --- passwords: from stdin or a hidden prompt, never from the command line -------------------------------

PASSWORD_OPTIONS = (
    click.Option(["--password-stdin"], is_flag=True, help="Read the password from stdin (e.g. a secrets manager)."),
    click.Option(["--password-prompt"], is_flag=True, help="Ask for the password (hidden)."),
)


def _read_password(arguments: dict[str, Any]) -> str | None:
    """The password from stdin or a hidden prompt (the options taken out of `arguments`), or None."""
    from_stdin, prompt = arguments.pop("password_stdin"), arguments.pop("password_prompt")
    if from_stdin and prompt:
        raise UsageFailure("Give either --password-stdin or --password-prompt, not both.")
    if from_stdin:
        password = sys.stdin.read().rstrip("\r\n")
        if not password:
            raise UsageFailure("--password-stdin: stdin holds no password.")
        return password
    if prompt:
        if not stdin_is_interactive():
            raise UsageFailure("--password-prompt needs a terminal; pipe the password in with --password-stdin.")
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return value
    return None


# --- the commands that do more than run and print ---------------------------------------------------------


def _create(session: Session, spec: ToolSpec, arguments: dict[str, Any], as_json: bool) -> None:
    file: IO[str] = arguments.pop("file")
    if arguments["password_stdin"] and file.name == "<stdin>":
        raise UsageFailure("The file is read from stdin, so the password cannot be: use --password-prompt.")
    from_file = read_connector_file(file)
    if not from_file.get("project_id") and not session.settings().project:
        raise UsageFailure(f'{file.name} has no "internalID" (the project) and DATABASIN_PROJECT is not set.')
    password = _read_password(arguments)
    if password is not None:
        from_file["password"] = password
    answer = session.run(spec, {**from_file, **arguments})
    emit(answer, as_json=as_json)
    if arguments["test"]:  # created or already there, the connector was tested: its outcome is the exit code
        _exit_for_test(answer.data.get("test", {}).get("success"))


def _update(session: Session, spec: ToolSpec, arguments: dict[str, Any], as_json: bool) -> None:
    password = _read_password(arguments)
    if password is not None:
        arguments["password"] = password
    emit(session.run(spec, arguments), as_json=as_json)


def _delete(session: Session, spec: ToolSpec, arguments: dict[str, Any], as_json: bool) -> None:
    force = arguments.pop("force")
    if not force:
        preview = session.run(spec, {**arguments, "confirm": False})
        what = _described(preview.data)
        # The pipelines of its project that use it, or that this could not be checked (never blocks).
        breaks = preview.data.get("breaks") or "Pipelines using it will fail."
        if not stdin_is_interactive():
            raise UsageFailure(
                f"Not deleted: this would delete {what}, and there is no terminal to confirm it. {breaks} Add --force."
            )
        if not click.confirm(f"Delete {what}? {breaks}", default=False, err=True):
            raise Failure("Not deleted.")
    emit(session.run(spec, {**arguments, "confirm": True}), as_json=as_json)


def _described(data: Mapping[str, Any]) -> str:
    return (
        f"connector {data['connector_id']} {data['connectorName']!r} "
        f"({data['connectorType']}, project {data['internalID']})"
    )


def _test(session: Session, spec: ToolSpec, arguments: dict[str, Any], as_json: bool) -> None:
    answer = session.run(spec, arguments)
    emit(answer, as_json=as_json)
    _exit_for_test(answer.data["success"])


def _exit_for_test(success: bool | None) -> None:
    """Exit 4 when a connector test ran and failed, 1 when it could not run."""
    if success is False:
        raise click.exceptions.Exit(EXIT_TEST_FAILED)
    if success is None:
        raise click.exceptions.Exit(EXIT_FAILED)


def _refresh(session: Session, spec: ToolSpec, arguments: dict[str, Any], as_json: bool) -> None:
    terminal = stderr_is_terminal()
    progress = arguments.pop("progress")
    shown = terminal if progress is None else progress
    connector_id = arguments["connector_id"]
    with progress_line(f"Refreshing metadata of connector {connector_id}…", enabled=shown, in_place=terminal) as report:
        answer = session.run(spec, {**arguments, "progress": report})
    emit(answer, as_json=as_json)


def _writing_commands() -> dict[str, ToolCommand]:
    return {
        "create_connector": tool_command(
            BY_NAME["create_connector"],
            _create,
            # Everything else comes from the file, in the API's own field names.
            skip=[
                name for name in _operation_parameters("create_connector") if name not in ("test", "allow_duplicate")
            ],
            extra=[
                click.Argument(["file"], type=click.File("r", encoding="utf-8"), metavar="FILE.json"),
                *PASSWORD_OPTIONS,
            ],
            help=CREATE_HELP,
        ),
        "update_connector": tool_command(
            BY_NAME["update_connector"],
            _update,
            skip=["password"],
            extra=PASSWORD_OPTIONS,
            help="Change only the given fields; prints each one before → after (passwords masked).",
        ),
        "delete_connector": tool_command(
            BY_NAME["delete_connector"],
            _delete,
            skip=["confirm"],
            extra=[click.Option(["--force"], is_flag=True, help="Delete without asking.")],
            help="Delete a connector (pipelines using it will fail). Asks first, unless --force.",
        ),
        "test_connector": tool_command(
            BY_NAME["test_connector"],
            _test,
            help="Test a connector's connection to its source (exit code 4 when the test fails).",
        ),
        "refresh_connector_metadata": tool_command(
            BY_NAME["refresh_connector_metadata"],
            _refresh,
            extra=[
                click.Option(
                    ["--progress/--no-progress"],
                    default=None,
                    help="Show the time waited on stderr (default: when stderr is a terminal).",
                )
            ],
            help="Re-read catalogs, schemas and tables from the source (can take minutes); prints the counts.",
        ),
    }


def _operation_parameters(tool: str) -> list[str]:
    return [name for name in inspect.signature(BY_NAME[tool].operation).parameters if name != "self"]


CREATE_HELP = """Create a connector from FILE.json ('-' for stdin): the API's create body, e.g.

\b
{"connectorName": "Production MySQL", "connectorType": "RDBMS",
 "connectorHost": "mysql.example.com", "connectorPort": "3306",
 "connectorDatabaseName": "analytics", "connectorUsername": "databasin_user",
 "connectorPassword": "...", "institutionID": 1, "internalID": "proj-001"}

A connector of the same name in the project is answered instead, unless --allow-duplicate."""


# --- the tree ------------------------------------------------------------------------------------------------


class Root(click.Group):
    """The command tree, ending every failed run in one line. (Output to a closed pipe, `| head -1`, click
    ends itself: quietly, exit 1.)"""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as error:
            # click's own parsing errors: it prints the usage block and a hint first; one line says the same.
            where = error.ctx.command_path if error.ctx is not None else "databasin"
            click.echo(f"Error: {error.format_message()} ('{where} --help' lists the options.)", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_FAILED)
        # Without standalone mode, click returns the code of a command that ended with ctx.exit(code).
        sys.exit(code if isinstance(code, int) else 0)


@click.group(name="databasin", cls=Root, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
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


GROUP_HELP = {
    "connectors": "List, find, read, create, update, delete, test and refresh connectors.",
    "metadata": "Browse a connector's catalogs, schemas, tables and columns.",
    "data": "Preview a table's rows, run one read-only SELECT.",
}


def _build_tree(root: click.Group) -> None:
    """Every tool's command, in the group its spec names; derived whole unless it writes or acts."""
    special = _writing_commands()
    for spec in TOOLS:
        parent = root
        for name in spec.command[:-1]:
            found = parent.commands.get(name)
            if not isinstance(found, click.Group):
                found = click.Group(name, help=GROUP_HELP.get(name))
                parent.add_command(found)
            parent = found
        parent.add_command(special.get(spec.name) or tool_command(spec))


_build_tree(cli)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The `databasin` console script."""
    cli.main(args=argv, prog_name="databasin")
    sys.exit(0)
