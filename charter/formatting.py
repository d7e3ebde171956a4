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
