"""Signing the charter, certificates, verification and withdrawal."""

from __future__ import annotations

from charter.signing import bp  # noqa: F401
