"""The notifications domain: events, state, decisions (pure, no I/O)."""
