"""Scheduling pages."""

from flask import Blueprint, render_template

from platform_core.identity.auth import permission_required

bp = Blueprint("scheduling", __name__, template_folder="templates")


@bp.get("/")
@permission_required("scheduling.view")
def index():
    return render_template("scheduling/index.html")
