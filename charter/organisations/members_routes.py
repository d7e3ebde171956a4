"""Members of an organisation: invitations, removal, roles and handing over the lead."""

from __future__ import annotations

from charter.organisations import bp  # noqa: F401
