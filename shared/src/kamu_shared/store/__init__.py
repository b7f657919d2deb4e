"""The event store on PostgreSQL: atomic multi-stream appends with optimistic concurrency."""
