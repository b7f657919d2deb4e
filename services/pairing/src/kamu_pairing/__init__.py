"""Kamu's pairing service.

People synced from HR, Kamu volunteers (capacity, hours, topics, training) and pairings.
"""

__version__ = "0.1.0"
