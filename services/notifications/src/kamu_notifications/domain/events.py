"""The notifications service's published events.

Wire types ``kamu.notifications.<name>.v<N>``, on the topic ``kamu.notifications.events``.
"""

from kamu_shared.events import EventRegistry

registry = EventRegistry("notifications")
