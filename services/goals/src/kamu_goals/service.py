"""The goals service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_goals import __version__
from kamu_goals.domain.events import registry
from kamu_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="goals",
    title="kamu-goals",
    description="Goals, progress check-ins and reviews in Kamu meetings; private by default.",
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
)
