"""The outbox relay: every committed event, published to the service's topic, in order."""
