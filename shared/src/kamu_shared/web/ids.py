"""The shapes of ids in paths and bodies, the same in every service."""

from typing import Annotated
from zoneinfo import available_timezones

from pydantic import Field

PersonId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@:-]+$")]
"""A person id as HR issues it (an employee number, an email-like handle)."""

ResourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
"""A server-issued id (a UUID) of a pairing, meeting, goal or notification."""

TIME_ZONES = frozenset(available_timezones()) - {"localtime", "Factory", "posixrules"}
"""IANA time zone names this Python knows (not the host's aliases, whose zone varies)."""
