"""Helpers for tests of services built on kamu_shared: given-when-then and reading topics."""
