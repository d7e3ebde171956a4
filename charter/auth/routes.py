from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from charter.auth import bp, services, sessions
from charter.auth.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from charter.auth.login import current_session, sign_in, sign_out
from charter.extensions import limiter
from charter.views_support import is_safe_next


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.dashboard"))
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            error = _("The email address or password is not right. Check them and try again.")
        else:
            sign_in(user, remember=form.remember.data)  # saved with the redirect's commit
            flash(_("You are signed in."), "success")
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("main.dashboard"))
    status = 200 if request.method == "GET" else (401 if error else 400)
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template("auth/forgot_sent.html", email=form.email.data)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str):
    check = services.check_reset_token(token)
    if check.user is None:
        return render_template("auth/reset_invalid.html", problem=check.problem), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)  # ends every session of the user
        sign_out()  # and this browser's, whoever it was signed in as
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset.html", form=form, token=token), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if services.change_password(current_user, form.current_password.data, form.password.data,
                                    keep=current_session()):
            # This session goes on; every other one has ended.
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
        form.current_password.errors = [*form.current_password.errors,
                                        _("That is not your current password.")]
    status = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status


@bp.route("/account")
@login_required
def account():
    this_session = current_session()
    return render_template(
        "auth/account.html",
        sessions=sessions.active_sessions(current_user),
        this_session_id=this_session.id if this_session else None,
        describe_device=sessions.describe_device,
    )


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):  # CSRF is checked for every POST (CSRFProtect)
    this_session = current_session()
    try:
        sessions.end_session(current_user, session_id)
    except sessions.SessionNotFound:
        abort(404)
    if this_session is not None and this_session.id == session_id:
        logout_user()
        flash(_("You are signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("That session has ended: the device it was on is signed out."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end-all", methods=["POST"])
@login_required
def end_all_sessions():
    sessions.end_all_sessions(current_user, current_user, reason="all_devices")
    logout_user()
    flash(_("You are signed out on every device, this one included. Sign in again to go on."),
          "success")
    return redirect(url_for("auth.login"))
