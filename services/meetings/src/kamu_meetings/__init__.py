"""Kamu's meetings service.

Kamu meetings, their cadence and reminders, private notes and anonymous feedback.
"""

__version__ = "0.1.0"
