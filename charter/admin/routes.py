from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.admin import bp, services
from charter.extensions import db
from charter.models import OutboxMessage


@bp.route("/outbox")
@login_required
def outbox():
    if not permissions.can_view_outbox(current_user):
        abort(403)
    to_filter = request.args.get("to", "").strip()[:254]
    page = services.outbox_page(readers.page_arg(), to_filter or None)
    return render_template("admin/outbox.html", page=page, to_filter=to_filter)


@bp.route("/outbox/<int:message_id>")
@login_required
def outbox_message(message_id: int):
    if not permissions.can_view_outbox(current_user):
        abort(403)
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("admin/outbox_message.html", message=message)


@bp.route("/audit")
@login_required
def audit_log():
    if not permissions.can_view_all_audit(current_user):
        abort(403)
    page = services.audit_page(readers.page_arg())
    return render_template("admin/audit.html", page=page)
