"""The insights read models: one projection per producing service's topic.

Each keeps facts per aggregate (a person, a pairing, a meeting, a goal), written only by that
aggregate's own events. Kafka keeps one aggregate's events in order but nothing across
aggregates or topics, so every figure is computed when it is asked for, by joining these facts:
the same facts give the same figures in whatever order the topics were read, live or rebuilt.
"""

from kamu_insights.projections.goals import GoalFacts
from kamu_insights.projections.meetings import MeetingFacts
from kamu_insights.projections.notifications import NotificationFacts
from kamu_insights.projections.pairing import PairingFacts

PROJECTIONS = (PairingFacts(), MeetingFacts(), GoalFacts(), NotificationFacts())

__all__ = ["PROJECTIONS", "GoalFacts", "MeetingFacts", "NotificationFacts", "PairingFacts"]
