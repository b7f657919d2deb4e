"""The notifications service as the shared runtime sees it: its one definition."""

from pathlib import Path

from kamu_notifications import __version__
from kamu_notifications.domain.events import registry
from kamu_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="notifications",
    title="kamu-notifications",
    description="Email with calendar invites, Slack, Teams, signed webhooks and the in-app inbox.",
    version=__version__,
    registry=registry,
    migrations=[Path(__file__).parent / "migrations"],
)
