"""Who may reach the site pages and the charter version pages (blueprint `sites`)."""

from __future__ import annotations

from tests.access.rules import SITE_MANAGERS, Route, everyone, only, open_charter


def _two_versions(w):
    """Version 1 superseded, version 2 open, on the first site."""
    from datetime import UTC, datetime

    from charter.models import CharterStatus
    from tests import factories as f

    f.charter_version(w.site, 1, CharterStatus.SUPERSEDED, superseded_at=datetime.now(UTC))
    f.charter_version(w.site, 2, CharterStatus.OPEN)
    return w.site.slug


def _draft(w):
    """An open version 1 and a draft version 2 of the first site; returns the draft."""
    from charter.models import CharterStatus
    from tests import factories as f

    open_charter(w)
    return f.charter_version(w.site, 2, CharterStatus.DRAFT,
                             change_summary="Clearer wording.")


def _with_open_charter(url: str):
    """A route whose page shows the first site's open version."""

    def build(w):
        open_charter(w)
        return url.format(slug=w.site.slug)

    return build


def _draft_url(w, action):
    draft = _draft(w)
    return f"/manage/sites/{w.site.slug}/charter/{draft.number}/{action}"


ACCESS = {
    ("sites.site", "GET"): Route(lambda w: f"/sites/{w.site.slug}", everyone(200)),
    ("sites.current_charter", "GET"): Route(_with_open_charter("/charter"), everyone(200)),
    ("sites.charter", "GET"): Route(_with_open_charter("/sites/{slug}/charter"), everyone(200)),
    # An open version is public.
    ("sites.version", "GET"): Route(
        lambda w: f"/sites/{w.site.slug}/charter/v{open_charter(w).number}", everyone(200)),
    ("sites.version_markdown", "GET"): Route(
        lambda w: f"/sites/{w.site.slug}/charter/v{open_charter(w).number}.md", everyone(200)),
    ("sites.diff", "GET"): Route(
        lambda w: f"/sites/{_two_versions(w)}/charter/diff?from=1&to=2", everyone(200)),
    ("sites.manage_charter", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/charter", only(SITE_MANAGERS)),
    ("sites.new_version", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/charter/new", only(SITE_MANAGERS)),
    # An empty form: refused for bad input (400) for those who may write.
    ("sites.new_version", "POST"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/charter/new", only(SITE_MANAGERS, 400)),
    ("sites.edit_version", "GET"): Route(lambda w: _draft_url(w, "edit"), only(SITE_MANAGERS)),
    ("sites.edit_version", "POST"): Route(lambda w: _draft_url(w, "edit"),
                                          only(SITE_MANAGERS, 400)),
    ("sites.open_version", "POST"): Route(lambda w: _draft_url(w, "open"),
                                          only(SITE_MANAGERS, 302)),
    ("sites.delete_draft", "POST"): Route(lambda w: _draft_url(w, "delete"),
                                          only(SITE_MANAGERS, 302)),
}
