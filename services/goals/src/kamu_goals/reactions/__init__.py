"""What the goals service does with other services' events."""
