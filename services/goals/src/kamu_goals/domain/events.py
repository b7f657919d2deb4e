"""The goals service's published events.

Wire types ``kamu.goals.<name>.v<N>``, on the topic ``kamu.goals.events``.
"""

from kamu_shared.events import EventRegistry

registry = EventRegistry("goals")
