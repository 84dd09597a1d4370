"""Public pages and the signed-in account page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from .about import DESCRIPTION, PROJECT_NAME

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("main/index.html", project_name=PROJECT_NAME, description=DESCRIPTION)


@bp.get("/account")
@login_required
def account():
    return render_template("main/account.html", user=current_user)
