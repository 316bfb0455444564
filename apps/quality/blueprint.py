"""Quality pages."""

from flask import Blueprint, render_template

from platform_core.identity.auth import permission_required

bp = Blueprint("quality", __name__, template_folder="templates")


@bp.get("/")
@permission_required("quality.view")
def index():
    return render_template("quality/index.html")
