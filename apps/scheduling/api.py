"""Scheduling API."""

from flask.views import MethodView

from platform_core.api import ApiBlueprint, AppInfoSchema, app_info

blp = ApiBlueprint(
    "scheduling_api", __name__, description="Optimised schedules, Gantt chart and publishing to the shop floor."
)


@blp.route("/")
class Info(MethodView):
    @blp.requires("scheduling.view")
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("scheduling")
