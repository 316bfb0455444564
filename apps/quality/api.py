"""Quality API."""

from flask.views import MethodView

from platform_core.api import ApiBlueprint, AppInfoSchema, app_info

blp = ApiBlueprint("quality_api", __name__, description="Inspections on tablets, SPC, nonconformance and genealogy.")


@blp.route("/")
class Info(MethodView):
    @blp.requires("quality.view")
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("quality")
