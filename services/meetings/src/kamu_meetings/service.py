"""The meetings service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_meetings import __version__
from kamu_meetings.commands import meetings
from kamu_meetings.domain.events import registry
from kamu_meetings.domain.inbound import goal_events, pairing_events
from kamu_meetings.reactions import goals, pairings
from kamu_meetings.read_models import feed_links, routes, stats
from kamu_meetings.read_models.state import rebuild_state
from kamu_meetings.timers import OVERDUE
from kamu_shared.runtime import Reaction, ServiceDefinition

DEFINITION = ServiceDefinition(
    name="meetings",
    title="kamu-meetings",
    description="Kamu meetings, their cadence and reminders, private notes and anonymous feedback.",
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
    routers=[stats.router, routes.router, feed_links.router, meetings.router],
    reactions=[
        Reaction(
            pairings.GROUP,
            [pairing_events.topic],
            [pairing_events],
            make_handler=pairings.handler,
        ),
        Reaction(goals.GROUP, [goal_events.topic], [goal_events], handler=goals.handle),
    ],
    state_rebuilders={"state": rebuild_state},
    timers=[OVERDUE],
)
