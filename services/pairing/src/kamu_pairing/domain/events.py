"""The pairing service's published events.

Wire types ``kamu.pairing.<name>.v<N>``, on the topic ``kamu.pairing.events``.
"""

from kamu_shared.events import EventRegistry

registry = EventRegistry("pairing")
