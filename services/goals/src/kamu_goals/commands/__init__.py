"""Commands: the routes that change goals."""
