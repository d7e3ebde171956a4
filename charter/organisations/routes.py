"""Organisations: joining, approval, the public register, profiles, members, history."""

from __future__ import annotations

from charter.organisations import bp  # noqa: F401
