"""What deleting a connector breaks: the pipelines of its project that use it, or why that could not be checked.

The real backend lists a project's pipelines at GET /api/pipeline, which needs the project, its
institution and the user (ownerID, from GET /api/my/account; else the connector's owner). A pipeline
names its connectors in items[] as numbers and on some records at the top as strings; both count. A
check that cannot be made (no such route, a refusal, no answer) is said plainly and never blocks
the delete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import DatabasinError
from ..models import Connector
from ..shaping import plain
from .base import Services

logger = logging.getLogger(__name__)

# Pipelines named in the sentence before "and N more".
NAMED_PIPELINES = 5


@dataclass(frozen=True)
class PipelineUse:
    """The pipelines using a connector (id, name, role), or None with why they could not be checked."""

    using: list[tuple[str, str, str]] | None
    why_unchecked: str = ""

    def listed(self) -> list[dict[str, str]] | None:
        """The pipelines as data (None: not checked)."""
        if self.using is None:
            return None
        return [{"pipelineID": pid, "pipelineName": name, "role": role} for pid, name, role in self.using]

    def sentence(self, project: str) -> str:
        """'pipelines using it will fail: 9001 'Orders to EDW' (source).' or what could not be checked."""
        if self.using is None:
            return f"Whether pipelines use it could not be checked ({self.why_unchecked}); any that do will fail."
        if not self.using:
            return f"No pipeline of {plain(project)} uses it."
        named = ", ".join(f"{pid} {name!r} ({role})" for pid, name, role in self.using[:NAMED_PIPELINES])
        more = f" and {len(self.using) - NAMED_PIPELINES} more" if len(self.using) > NAMED_PIPELINES else ""
        count = f"{len(self.using)} pipeline{'s' if len(self.using) != 1 else ''}"
        return f"{count} of {plain(project)} use{'s' if len(self.using) == 1 else ''} it and will fail: {named}{more}."


class Pipelines:
    """The pipelines of a connector's project that use it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def using(self, connector: Connector) -> PipelineUse:
        """The pipelines using `connector` as source or target; never raises."""
        project, institution = connector.internalID, connector.institutionID
        if not project or institution is None:
            return PipelineUse(None, "the connector does not say its project and institution")
        try:
            owner = await self._owner(connector)
            if owner is None:
                return PipelineUse(None, "the API does not say who the user is, and the connector names no owner")
            pipelines = await self.services.client.list_pipelines(
                project_id=project, institution_id=institution, owner_id=owner
            )
        except DatabasinError as error:
            logger.info("Pipelines using connector %d not checked: %s", connector.connectorID, type(error).__name__)
            return PipelineUse(None, f"the pipeline list could not be read: {_short(error)}")
        if pipelines is None:
            return PipelineUse(None, "this Databasin API has no pipeline list")
        using = []
        for pipeline in pipelines:
            roles = pipeline.roles_of(connector.connectorID)
            if roles:
                name = plain(pipeline.pipelineName or "(no name)")
                using.append((plain(pipeline.pipelineID), name, " and ".join(roles)))
        return PipelineUse(using)

    async def _owner(self, connector: Connector) -> int | str | None:
        """The user the pipeline list asks for: the token's account where the API says, else the connector's owner."""
        account = await self.services.cache.get_or_fetch(("my-account",), self.services.client.my_account)
        owner: int | str | None = account.id if account is not None else connector.ownerID
        return owner


def _short(error: DatabasinError) -> str:
    said = str(error).strip().rstrip(".")
    return said if len(said) <= 160 else said[:159] + "…"
