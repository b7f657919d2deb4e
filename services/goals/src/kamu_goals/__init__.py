"""Kamu's goals service.

Goals, progress check-ins and reviews in Kamu meetings; private by default.
"""

__version__ = "0.1.0"
