"""The meetings domain: events, state, decisions (pure, no I/O)."""
