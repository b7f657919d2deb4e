"""Consumers: each event's effect exactly once, retries, dead letters, stall recovery."""
