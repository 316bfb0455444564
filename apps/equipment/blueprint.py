"""Equipment pages."""

from flask import Blueprint, render_template

from platform_core.identity.auth import permission_required

bp = Blueprint("equipment", __name__, template_folder="templates")


@bp.get("/")
@permission_required("equipment.view")
def index():
    return render_template("equipment/index.html")
