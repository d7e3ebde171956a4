"""The open data API under /api/v1 (read-only, public data only)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API (and its OpenAPI document) on the app."""
