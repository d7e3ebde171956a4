"""Site pages and charter versions (public reading, coordinator authoring)."""

from __future__ import annotations

from charter.sites import bp  # noqa: F401
