"""Routes of the commitments blueprint: domain."""

from __future__ import annotations

from charter.commitments import bp  # noqa: F401
