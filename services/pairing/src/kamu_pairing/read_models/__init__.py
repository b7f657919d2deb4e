"""The pairing service's read models: current state tables and the queries over them."""
