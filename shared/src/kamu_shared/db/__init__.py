"""PostgreSQL access shared by every service: pools with JSON codecs, and versioned migrations."""
