"""Orders API."""

from flask.views import MethodView

from platform_core.api import ApiBlueprint, AppInfoSchema, app_info

blp = ApiBlueprint("orders_api", __name__, description="Routings, work orders and shop-floor reporting on tablets.")


@blp.route("/")
class Info(MethodView):
    @blp.requires("orders.view")
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("orders")
