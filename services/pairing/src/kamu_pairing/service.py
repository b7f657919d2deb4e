"""The pairing service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_pairing import __version__
from kamu_pairing.commands import kamus, pairings, people
from kamu_pairing.domain.events import registry
from kamu_pairing.read_models import routes, suggestions
from kamu_pairing.read_models.state import rebuild_state
from kamu_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="pairing",
    title="kamu-pairing",
    description=(
        "People synced from HR, Kamu volunteers (capacity, hours, topics, training) and pairings."
    ),
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
    # Queries first: /kamus/suggestions must match before /kamus/{person_id}.
    routers=[suggestions.router, routes.router, people.router, kamus.router, pairings.router],
    state_rebuilders={"state": rebuild_state},
)
