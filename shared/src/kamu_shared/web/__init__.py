"""HTTP plumbing every service reuses: app factory, health, metrics, request context."""
