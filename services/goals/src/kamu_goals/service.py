"""The goals service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_goals import __version__
from kamu_goals.commands import goals
from kamu_goals.domain.events import registry
from kamu_goals.domain.inbound import meeting_events, pairing_events
from kamu_goals.reactions import meetings, pairings
from kamu_goals.read_models import routes, stats
from kamu_goals.read_models.state import rebuild_state
from kamu_goals.timers import REVIEW_DUE
from kamu_shared.runtime import Reaction, ServiceDefinition

DEFINITION = ServiceDefinition(
    name="goals",
    title="kamu-goals",
    description="Goals, progress check-ins and reviews in Kamu meetings; private by default.",
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
    # Queries first: /people/{id}/goals/due must match before anything broader.
    routers=[stats.router, routes.router, goals.router],
    reactions=[
        Reaction(
            pairings.GROUP, [pairing_events.topic], [pairing_events], make_handler=pairings.handler
        ),
        Reaction(meetings.GROUP, [meeting_events.topic], [meeting_events], handler=meetings.handle),
    ],
    state_rebuilders={"state": rebuild_state},
    timers=[REVIEW_DUE],
)
