"""Public pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from .about import DESCRIPTION, PROJECT_NAME

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("main/index.html", project_name=PROJECT_NAME, description=DESCRIPTION)
