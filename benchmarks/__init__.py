"""Kamu's benchmarks: scripts that print a table and write JSON, never timed tests.

Run ``python -m benchmarks.core`` from the repository root (see docs/benchmarks/README.md).
"""
