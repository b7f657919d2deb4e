"""The meetings service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_meetings import __version__
from kamu_meetings.domain.events import registry
from kamu_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="meetings",
    title="kamu-meetings",
    description="Kamu meetings, their cadence and reminders, private notes and anonymous feedback.",
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
)
