"""The admin pages: find accounts, disable and enable them, end their
sessions.

Deny by default: `_gate` runs before every view of this blueprint and lets
a request through only if the view names its permission (roles.requires)
and the signed-in user's role holds it, and only after a log-in with a
second factor at the provider (oidc_roles.py). A view added here without
@requires answers 403 to everyone. Every action is a JSON log line naming
the admin and the account, and a security event on the account.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select

from .extensions import db, login_manager
from .models import User
from .oidc_roles import multi_factor_login
from .roles import DISABLE_USERS, END_USER_SESSIONS, LIST_USERS, allowed, requires
from .security_events import record

bp = Blueprint("admin", __name__, url_prefix="/admin")
# The account page tells an admin whether these pages would open.
bp.add_app_template_global(multi_factor_login)

PER_PAGE = 20
MAX_QUERY_LENGTH = 254
# Far past any real list, and short of an OFFSET the database cannot take.
MAX_PAGE = 100_000


class ActionForm(FlaskForm):
    """A button that changes an account: the CSRF token only."""


@bp.before_request
def _gate():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    view = current_app.view_functions.get(request.endpoint or "")
    permission = getattr(view, "required_permission", None)
    if permission is None or not allowed(current_user, permission):
        current_app.logger.warning(
            "admin page refused",
            extra={"event": "admin_refused", "user_id": current_user.id, "path": request.path},
        )
        abort(403)
    if not multi_factor_login():
        current_app.logger.warning(
            "admin page refused: log-in without a second factor",
            extra={"event": "admin_refused_single_factor", "user_id": current_user.id},
        )
        return render_template("admin/second_factor.html"), 403
    return None


@bp.get("/users")
@requires(LIST_USERS)
def users():
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    page = request.args.get("page", 1, type=int) or 1
    statement = select(User).order_by(User.id)
    if query:
        # Addresses and names as the provider sends them, in any letter case;
        # an account without a verified address is found by name or subject.
        needle = query.lower()
        statement = statement.where(
            or_(
                func.lower(User.email).contains(needle, autoescape=True),
                func.lower(User.name).contains(needle, autoescape=True),
                User.subject == query,
            )
        )
    page = min(max(page, 1), MAX_PAGE)
    found = db.paginate(statement, page=page, per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", found=found, query=query)


@bp.get("/users/<int:user_id>")
@requires(LIST_USERS)
def user(user_id: int):
    account = db.get_or_404(User, user_id)
    return render_template("admin/user.html", account=account, form=ActionForm())


@bp.post("/users/<int:user_id>/disable")
@requires(DISABLE_USERS)
def disable(user_id: int):
    account = _changed_account(user_id)
    if account.id == current_user.id:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("admin.user", user_id=account.id))
    if account.disabled_at is None:
        account.disable()
        _done(account, "account_disabled", "account disabled; its sessions ended")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.post("/users/<int:user_id>/enable")
@requires(DISABLE_USERS)
def enable(user_id: int):
    account = _changed_account(user_id)
    if account.disabled_at is not None:
        account.disabled_at = None
        _done(account, "account_enabled", "account enabled")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.post("/users/<int:user_id>/sessions/end")
@requires(END_USER_SESSIONS)
def end_sessions(user_id: int):
    account = _changed_account(user_id)
    account.end_all_sessions()
    _done(account, "sessions_ended_by_admin", "every session of the account ended")
    if account.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.user", user_id=account.id))


def _changed_account(user_id: int) -> User:
    if not ActionForm().validate_on_submit():
        abort(400)
    return db.get_or_404(User, user_id)


def _done(account: User, kind: str, message: str) -> None:
    record(account.id, kind)
    db.session.commit()
    current_app.logger.info(
        f"admin action: {message}",
        extra={
            "event": "admin_action",
            "action": kind,
            "admin_id": current_user.id,
            "user_id": account.id,
        },
    )
    flash(f"Done: {message}.", "info")
