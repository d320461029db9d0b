"""The web dashboard: a FastAPI app over the same scenarios, runs and reports."""

from straits.web.app import Settings, create_app

__all__ = ["Settings", "create_app"]
