"""Orders pages."""

from flask import Blueprint, render_template

from platform_core.identity.auth import permission_required

bp = Blueprint("orders", __name__, template_folder="templates")


@bp.get("/")
@permission_required("orders.view")
def index():
    return render_template("orders/index.html")
