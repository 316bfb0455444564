"""Equipment API."""

from flask.views import MethodView

from platform_core.api import ApiBlueprint, AppInfoSchema, app_info

blp = ApiBlueprint(
    "equipment_api", __name__, description="Machine states, telemetry, alarms, downtime, OEE and maintenance."
)


@blp.route("/")
class Info(MethodView):
    @blp.requires("equipment.view")
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("equipment")
