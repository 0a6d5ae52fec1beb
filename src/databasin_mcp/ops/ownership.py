"""Who a new connector belongs to, for a create that names only the project: its institution and its owner.

The real backend needs institutionID and ownerID on a create, which a person in a conversation does
not know; it can tell both. The institution is the one the project's connectors say, else the
project's own record (GET /api/project/{id}, or the user's project list); the owner is the user the
token belongs to (GET /api/my/account). Where the API does not tell, the error names the value to give.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import BadRequestError, DatabasinError, InvalidArgumentError
from ..models import Connector
from ..shaping import plain
from ..wording import ANY
from .base import Services
from .directory import Directory

logger = logging.getLogger(__name__)

TOOL = "create_connector"


class Ownership:
    """The institution and owner of a connector about to be created."""

    def __init__(self, services: Services, directory: Directory) -> None:
        self.services = services
        self.directory = directory

    async def institution(self, project: str, given: int | None, members: Sequence[Connector]) -> int:
        """The institution to create in: the one given, else the project's (its connectors', else its record's)."""
        if given is not None:
            return given
        said = sorted({str(c.institutionID) for c in members if c.institutionID is not None})
        if len(said) == 1 and said[0].isdigit():
            return int(said[0])
        found = await self.directory.look_up(project)
        if not found.exists:
            raise self.directory.unknown_project(project, found, TOOL, consequence=" Nothing was created.")
        if found.institution is not None and str(found.institution).strip().isdigit():
            return int(str(found.institution).strip())
        words = self.services.words
        why = (
            f"its connectors name {' and '.join(said)}"
            if said
            else "no connector in it says, and the API serves no project record that does"
        )
        raise InvalidArgumentError(
            f"{words.argument(TOOL, 'institution_id')} is needed: the institution of {plain(project)} could not be "
            f"looked up ({why}); pass {words.setting(TOOL, 'institution_id', ANY)}. Nothing was created."
        )

    async def owner(self, given: int | None) -> int | None:
        """The owner to create with: the one given, else the token's user where the API says (None: not sent)."""
        if given is not None:
            return given
        try:
            account = await self.services.cache.get_or_fetch(("my-account",), self.services.client.my_account)
        except DatabasinError as error:
            # The owner is a nicety where the API does not require it; where it does, its refusal is explained.
            logger.info("The account could not be read for a create: %s", type(error).__name__)
            return None
        if account is None or not str(account.id).strip().isdigit():
            return None
        return int(str(account.id).strip())

    def needed(
        self, refused: BadRequestError, *, institution_given: bool, owner_given: bool
    ) -> InvalidArgumentError | None:
        """A create refused for want of ownerID or institutionID that were not given, said as the argument to
        give; None for any other refusal."""
        said = (refused.upstream_message or "").casefold()
        words = self.services.words
        for api_name, argument, given in (
            ("ownerid", "owner_id", owner_given),
            ("institutionid", "institution_id", institution_given),
        ):
            if api_name in said.replace("_", "") and not given:
                give = words.setting(TOOL, argument, ANY)
                return InvalidArgumentError(
                    f"{words.argument(TOOL, argument)} is needed: the API refused the create without it "
                    f"({plain(refused.upstream_message)}) and does not say it; pass {give}. Nothing was created."
                )
        return None
