"""The insights service as the shared runtime sees it: projections and queries, no commands."""

from kamu_insights import __version__, api, dashboard
from kamu_insights.projections import PROJECTIONS
from kamu_shared.events import EventRegistry
from kamu_shared.runtime import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="insights",
    title="kamu-insights",
    description=(
        "Programme health for People Operations: every service's events projected into "
        "figures, small groups withheld, and a dashboard."
    ),
    version=__version__,
    registry=EventRegistry("insights"),  # it publishes no events
    routers=[api.router, dashboard.router],
    projections=PROJECTIONS,
)
