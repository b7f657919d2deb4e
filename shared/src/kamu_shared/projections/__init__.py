"""Read models built from events, each in a schema of its own so it can be rebuilt and swapped."""
