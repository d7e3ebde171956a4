"""Showing times in the site's time zone, and other template helpers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from flask_babel import get_locale


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _tz_name(site) -> str | None:
    if site is None:
        return None
    return site if isinstance(site, str) else getattr(site, "timezone", None)


def local_datetime(value: datetime | None, site=None, fmt: str = "medium") -> str:
    """`value` (UTC) shown in the site's zone, e.g. '26 Nov 2026, 09:14 GMT'."""
    if value is None:
        return ""
    tz = zone(_tz_name(site))
    pattern = "d MMM y, HH:mm" if fmt == "medium" else fmt
    text = format_datetime(value, pattern, tzinfo=tz, locale=str(get_locale() or "en"))
    # The zone's own abbreviation (BST, AEST, CEST, SAST, EDT) reads better than +0100.
    return f"{text} {value.astimezone(tz).tzname()}"


def local_date(value: datetime | date | None, site=None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zone(_tz_name(site))).date()
    return format_date(value, "d MMMM y", locale=str(get_locale() or "en"))


def iso_local(value: datetime | None, site=None) -> str:
    """Machine-readable time for <time datetime="…">."""
    if value is None:
        return ""
    return value.astimezone(zone(_tz_name(site))).isoformat(timespec="minutes")


def change_value(value, field: str = "") -> str:
    """An audited value as a person reads it: enum labels, '—' for nothing."""
    from charter.models import enums

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    by_field = {
        "completion": [enums.Completion], "previous_completion": [enums.Completion],
        "rag": [enums.RAG], "previous_rag": [enums.RAG], "ambition": [enums.Ambition],
        "sector": [enums.Sector], "tier": [enums.Tier], "role": [enums.MemberRole],
        "direction": [enums.Direction],
        "status": [enums.CommitmentStatus, enums.OrganisationStatus, enums.PartnershipStatus,
                   enums.CharterStatus],
    }
    if isinstance(value, str):
        for enum_cls in by_field.get(field, []):
            try:
                return enum_cls(value).label
            except ValueError:
                continue
    return str(value)


def humanise(text: str) -> str:
    """'commitment.milestone_added' → 'milestone added'; 'target_date' → 'target date'."""
    if "." in text:
        text = text.split(".", 1)[1]
    return text.replace("_", " ")


def display_date(value, fmt: str = "d MMMM y") -> str:
    """A date given as a date, a datetime or an ISO string, for people to read."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, fmt, locale=str(get_locale() or "en"))
