"""The goals domain: events, state, decisions (pure, no I/O)."""
