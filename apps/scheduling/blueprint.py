"""Scheduling pages: the URL map. The views live in apps/scheduling/pages.py."""

from flask import Blueprint

from apps.scheduling import pages
from platform_core.identity.auth import permission_required

bp = Blueprint("scheduling", __name__, template_folder="templates")

VIEW, PLAN, PUBLISH = "scheduling.view", "scheduling.plan", "scheduling.publish"
ROUTES = [
    # rule, endpoint, view, permission, methods
    ("/", "index", pages.index, VIEW, ["GET"]),
    ("/proposals", "proposals", pages.proposals_fragment, VIEW, ["GET"]),
    ("/runs/new", "run_new", pages.run_new, PLAN, ["GET", "POST"]),
    ("/check", "check", pages.check_fragment, VIEW, ["GET"]),
    ("/runs/<int:run_id>", "run", pages.run_page, VIEW, ["GET"]),
    ("/runs/<int:run_id>/progress", "run_progress", pages.run_progress, VIEW, ["GET"]),
    ("/runs/<int:run_id>/gantt", "gantt", pages.gantt_page, VIEW, ["GET"]),
    ("/compare", "compare", pages.compare, VIEW, ["GET"]),
    ("/settings", "settings", pages.settings_page, VIEW, ["GET"]),
    ("/settings/save", "settings_save", pages.settings_save, PLAN, ["POST"]),
    ("/settings/setup-times", "setup_time_add", pages.setup_time_add, PLAN, ["POST"]),
    ("/settings/setup-times/<int:setup_time_id>/delete", "setup_time_delete", pages.setup_time_delete, PLAN, ["POST"]),
]
# One URL per action, so every path parameter is a record id (the page probes address each).
ROUTES += [
    (f"/runs/<int:run_id>/{action}", f"run_{action}", pages.run_action(action), PLAN, ["POST"])
    for action in ("cancel", "discard", "copy", "reoptimise")
]
ROUTES += [("/runs/<int:run_id>/publish", "run_publish", pages.run_action("publish"), PUBLISH, ["POST"])]
ROUTES += [
    (f"/runs/<int:run_id>/slots/<int:slot_id>/{action}", f"slot_{action}", pages.slot_action(action), PLAN, ["POST"])
    for action in ("move", "lock", "unlock")
]

for rule, endpoint, view, permission, methods in ROUTES:
    bp.add_url_rule(rule, endpoint, permission_required(permission)(view), methods=methods)
