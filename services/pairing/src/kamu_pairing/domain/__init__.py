"""The pairing domain: events, state, decisions (pure, no I/O)."""
