"""Kamu's notifications service.

Email with calendar invites, Slack, Teams, signed webhooks and the in-app inbox.
"""

__version__ = "0.1.0"
