"""Routes of the commitments blueprint: indicator."""

from __future__ import annotations

from charter.commitments import bp  # noqa: F401
