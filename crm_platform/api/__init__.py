"""The HTTP API under /api/v1: thin blueprints over the services."""

from .blueprint import build_api_blueprint

__all__ = ["build_api_blueprint"]
