"""Kafka plumbing shared by relays and consumers: topic names, topic creation, producers."""
