"""The meetings service's published events.

Wire types ``kamu.meetings.<name>.v<N>``, on the topic ``kamu.meetings.events``.
"""

from kamu_shared.events import EventRegistry

registry = EventRegistry("meetings")
