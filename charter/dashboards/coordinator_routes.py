"""Dashboards: coordinator views."""

from __future__ import annotations

from charter.dashboards import bp  # noqa: F401
