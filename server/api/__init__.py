"""The HTTP layer: the FastAPI app, its routes, guards and error bodies."""
