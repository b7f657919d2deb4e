"""The notifications service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_notifications import __version__
from kamu_notifications.commands import preferences
from kamu_notifications.dispatch.dispatcher import dispatcher_worker
from kamu_notifications.domain.events import registry
from kamu_notifications.domain.inbound import goal_events, meeting_events, pairing_events
from kamu_notifications.reactions import events
from kamu_notifications.read_models import history, inbox
from kamu_notifications.reminders import REMINDERS
from kamu_notifications.state import rebuild_state
from kamu_shared.runtime import Reaction, ServiceDefinition

DEFINITION = ServiceDefinition(
    name="notifications",
    title="kamu-notifications",
    description="Email with calendar invites, Slack, Teams, signed webhooks and the in-app inbox.",
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
    routers=[preferences.router, inbox.router, history.router],
    reactions=[
        Reaction(
            events.PAIRING_GROUP,
            [pairing_events.topic],
            [pairing_events],
            make_handler=events.handler,
        ),
        Reaction(
            events.MEETINGS_GROUP,
            [meeting_events.topic],
            [meeting_events],
            make_handler=events.handler,
        ),
        Reaction(
            events.GOALS_GROUP, [goal_events.topic], [goal_events], make_handler=events.handler
        ),
    ],
    state_rebuilders={"state": rebuild_state},
    timers=[REMINDERS],
    workers=[dispatcher_worker()],
)
