"""The project and connector directory: which project a call means, the connector lists (cached), projects.

The API has no project endpoint in the reference: projects are what the connectors say they belong
to, named where the real backend serves /api/my/projects, looked up where it serves /api/project/{id}.
"""

from __future__ import annotations

import difflib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ..errors import DatabasinError, InvalidArgumentError, UnknownProjectError
from ..models import Connector, RecordList, skipped_of
from ..params import InstitutionFilter
from ..real_records import Project
from ..shaping import Answer, counted, listing
from ..wording import ANY
from .base import Services
from .notes import in_scope, records_note

logger = logging.getLogger(__name__)

PROJECT_FIELDS = ("project_id", "institution_id", "connectors", "types")
PROJECT_FIELDS_NAMED = ("project_id", "name", "institution_id", "connectors", "types")


@dataclass(frozen=True)
class ProjectLookup:
    """Whether a project exists for this token, as far as the API can tell."""

    exists: bool
    near: list[str]  # the IDs it was probably meant to be, closest first
    listed: bool  # the API lists the user's projects: a project without connectors is known too
    institution: int | str | None = None  # where the API says (GET /api/project/{id}, the project list)


class Directory:
    """Projects and connector lists, for every operation that needs to know what exists."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def list_projects(self, *, institution_id: InstitutionFilter = None) -> Answer:
        """Projects (project IDs) with their connector counts by type."""
        s = self.services
        connectors = await self.connectors(institution_id=institution_id)
        by_project: dict[str, list[Connector]] = defaultdict(list)
        for connector in connectors:
            by_project[connector.internalID or "(none)"].append(connector)
        projects = await self.my_projects(institution_id)
        named = {project.internalID: project for project in projects} if projects is not None else None
        for project_id in named or {}:
            by_project.setdefault(project_id, [])  # a project without connectors is still a project
        rows = [
            _project_row(project, members, named.get(project) if named else None)
            for project, members in sorted(by_project.items())
        ]
        scope = f"with {counted(len(connectors), 'connectors')}"
        if institution_id is not None:
            scope += f" in institution {institution_id}"
        reading = [
            records_note("connectors", connectors, "connectorID"),
            records_note("projects", projects or [], "internalID"),
        ]
        everyone = f"{s.words.call('list_projects')} without {s.words.argument('list_projects', 'institution_id')}"
        return listing(
            noun="projects",
            shown_as=PROJECT_CELLS,
            rows=rows,
            fields=PROJECT_FIELDS_NAMED if named else PROJECT_FIELDS,
            left_out=(),
            offset=0,
            limit=max(len(rows), 1),
            max_chars=s.settings.max_chars,
            structured=s.settings.structured_output,
            say=s.say("list_projects"),
            scope=scope,
            aside="; ".join(note for note in reading if note),
            empty_hint=(
                "No connectors are visible to this token."
                if institution_id is None
                else f"None visible to this token; {everyone} shows every institution's."
            ),
        )

    def project(self, project_id: str | None, tool: str) -> str:
        """The project a call is about: the one given, else the configured default."""
        project = (project_id or self.services.settings.project or "").strip()  # "proj-007 " is proj-007
        if not project:
            words = self.services.words
            raise InvalidArgumentError(
                f"{words.argument(tool, 'project_id')} is required: pass {words.setting(tool, 'project_id', ANY)} "
                f"(the project's internalID; {words.call('list_projects')} shows them)."
            )
        return project

    async def connectors(
        self, *, institution_id: int | None = None, project_id: str | None = None
    ) -> RecordList[Connector]:
        """Connectors of a project and/or institution, from the cache when it can answer (a cached full
        list answers any filter). Always filtered here too: an upstream that ignores ?internalID= must
        not make another project's connectors look like this one's."""
        cache, client = self.services.cache, self.services.client
        everything: list[Connector] | None = cache.peek(("connectors", None, None))
        if everything is not None:
            # In the full list a connector whose project or institution is unknown belongs to no filter.
            return in_scope(everything, institution_id, project_id, unknown_belongs=False)
        answered = await cache.get_or_fetch(
            ("connectors", institution_id, project_id),
            lambda: client.list_connectors(institution_id=institution_id, project_id=project_id),
        )
        # In an answer to a filtered request, one that does not say is taken to be what was asked for.
        scoped = in_scope(answered, institution_id, project_id, unknown_belongs=True)
        if len(scoped) < len(answered):
            logger.warning(
                "The Databasin API answered %d connectors of other projects or institutions to a filtered "
                "request; they are left out",
                len(answered) - len(scoped),
            )
        return scoped

    async def my_projects(self, institution_id: int | None) -> RecordList[Project] | None:
        """The user's projects (of one institution) where the backend has /api/my/projects, else None."""
        try:
            projects = await self.services.cache.get_or_fetch(("my-projects",), self.services.client.list_my_projects)
        except DatabasinError as error:
            # Names are a nicety: without them the listing still answers from the connectors.
            logger.info("Project names unavailable: %s", type(error).__name__)
            return None
        if projects is None:
            return None
        wanted = None if institution_id is None else str(institution_id)
        return RecordList(
            (project for project in projects if wanted is None or str(project.institutionID) == wanted),
            (skipped for skipped in skipped_of(projects) if wanted is None or skipped.institution in (None, wanted)),
        )

    async def look_up(self, project: str) -> ProjectLookup:
        """Whether `project` exists, and its institution where the API says: GET /api/project/{id} where
        served, else the user's project list where the API serves one, else the connector list (a
        project with no connectors cannot be told from a typo there)."""
        try:
            record = await self.services.cache.get_or_fetch(
                ("project", project), lambda: self.services.client.get_project(project)
            )
        except DatabasinError as error:
            logger.info("The project's record could not be read: %s", type(error).__name__)
            record = None  # the lists below still tell whether it exists
        if record is not None and record.internalID == project:
            return ProjectLookup(True, [], True, record.institutionID)
        named = await self.named_projects(None)
        known = {c.internalID for c in await self.connectors() if c.internalID} | set(named or {})
        if project in known:
            institution = named[project].institutionID if named and project in named else None
            return ProjectLookup(True, [], named is not None, institution)
        same_but_case = sorted(other for other in known if other.casefold() == project.casefold())
        close = difflib.get_close_matches(project, sorted(known), n=2, cutoff=0.6)
        return ProjectLookup(False, list(dict.fromkeys([*same_but_case, *close])), named is not None)

    def unknown_project(
        self, project: str, found: ProjectLookup, tool: str, *, consequence: str
    ) -> UnknownProjectError:
        """'project_id: there is no 'proj-999' (did you mean 'proj-009'?); list_projects() shows them.'"""
        words = self.services.words
        where = words.argument(tool, "project_id")
        what = "one of your projects" if found.listed else "a project of any connector this token can see"
        said = f"{where}: {project!r} is not {what}."
        if found.near:
            said = f"{where}: {project!r} is not {what}; did you mean {found.near[0]!r}?"
            if found.near[0].casefold() == project.casefold():
                said += " Project IDs are case-sensitive."
        return UnknownProjectError(f"{said} {words.call('list_projects')} shows them.{consequence}")

    async def named_projects(self, institution_id: int | None) -> dict[str, Project] | None:
        """The user's projects by internalID where the backend has /api/my/projects, else None."""
        projects = await self.my_projects(institution_id)
        return {project.internalID: project for project in projects} if projects is not None else None


def _project_row(project: str, members: list[Connector], named: Project | None) -> dict[str, Any]:
    """A project's row: the institution as the API types it (a list where connectors disagree), and the
    connector count of each type, largest first."""
    institutions = list(dict.fromkeys(c.institutionID for c in members if c.institutionID is not None))
    if not institutions and named is not None and named.institutionID is not None:
        institutions = [named.institutionID]
    types = Counter(c.connectorType or "?" for c in members)
    return {
        "project_id": project,
        "name": named.name if named else None,
        "institution_id": institutions[0] if len(institutions) == 1 else (institutions or None),
        "connectors": len(members),
        "types": dict(types.most_common()),
    }


def _semicolons(value: Any) -> Any:
    return ";".join(map(str, value)) if isinstance(value, list) else value


def _counts(value: Any) -> Any:
    return " ".join(f"{name}:{count}" for name, count in value.items()) if isinstance(value, dict) else value


# How the text shows a project's institutions and type counts: compact ("1;3", "RDBMS:3 S3:2"); the data
# keeps them as the API types them and as an object, for scripts.
PROJECT_CELLS = {"institution_id": _semicolons, "types": _counts}
