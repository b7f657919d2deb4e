"""Errors that tell the person at the terminal what to do next."""


class InfraError(RuntimeError):
    """Infrastructure could not be provided; the message names the fix."""
