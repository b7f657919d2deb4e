"""One module per resource's commands: request models, handlers and routes."""
