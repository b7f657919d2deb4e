"""Kamu's insights service.

Programme health for People Operations: every other service's topic projected into read models,
served as aggregates (small groups withheld) and as a dashboard. It takes no commands.
"""

__version__ = "0.1.0"
