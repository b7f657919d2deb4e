"""Real infrastructure for Kamu on one machine: Kafka (KRaft) and PostgreSQL, started by us.

Used by the ``kamu-dev`` CLI (``./kamu up``), the pytest fixtures and the benchmarks alike, so the
servers a test talks to are the servers a developer runs.
"""
