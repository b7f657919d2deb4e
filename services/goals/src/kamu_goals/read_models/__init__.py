"""Read models and the queries over them."""
