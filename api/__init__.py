"""The HTTP service: a FastAPI app factory (`api.app.create_app`). Importing this package loads nothing heavy."""
