from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from charter.extensions import db
from charter.main import bp, services
from charter.models import ChangeDomain, Site
from charter.models.base import utcnow
from charter.signing.queries import signing_statuses


@bp.route("/")
def index():
    counts = services.site_counts()
    totals = {
        "signatories": sum(c.signatories for c in counts),
        "supporters": sum(c.supporters for c in counts),
        "sites": len(counts),
    }
    domains = db.session.scalars(ChangeDomain.ordered().where(ChangeDomain.is_active)).all()
    return render_template("main/index.html", counts=counts, totals=totals, domains=domains)


@bp.route("/dashboard")
@login_required
def dashboard():
    memberships = sorted(current_user.memberships, key=lambda m: m.organisation.name.casefold())
    if current_user.is_admin:
        sites = list(db.session.scalars(db.select(Site).order_by(Site.name)))
    else:
        sites = sorted((r.site for r in current_user.coordinator_roles), key=lambda s: s.name)
    pending = services.pending_counts([s.id for s in sites])
    statuses = signing_statuses([m.organisation for m in memberships])
    return render_template("main/dashboard.html", memberships=memberships, sites=sites,
                           pending=pending, statuses=statuses)


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return {"status": "error", "database": "unreachable"}, 503  # rolled back by the hook
    return {"status": "ok", "database": "ok"}


@bp.route("/.well-known/security.txt")
def security_txt():
    """Where to report a vulnerability (RFC 9116), when the instance names a contact."""
    contact = current_app.config.get("SECURITY_CONTACT")
    if not contact:
        abort(404)
    expires = (utcnow() + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    site_url = current_app.config["SITE_URL"]
    body = (f"Contact: {contact}\nExpires: {expires}\nPreferred-Languages: en\n"
            f"Canonical: {site_url}/.well-known/security.txt\n")
    return body, 200, {"Content-Type": "text/plain; charset=utf-8"}
