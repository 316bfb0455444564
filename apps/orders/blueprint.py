"""Orders pages: the URL map. The views live in apps/orders/pages/ (office, shop floor, supervision)."""

from flask import Blueprint

from apps.orders.pages import floor, office, supervisor
from platform_core.identity.auth import permission_required

bp = Blueprint("orders", __name__, template_folder="templates")

VIEW, MANAGE, REPORT, SUPERVISE = "orders.view", "orders.manage", "orders.report_work", "orders.supervise"
ROUTES = [
    # rule, endpoint, view, permission, methods
    ("/", "index", office.index, VIEW, ["GET"]),
    ("/work-orders", "orders", office.order_list, VIEW, ["GET"]),
    ("/work-orders/new", "order_new", office.order_new, MANAGE, ["GET", "POST"]),
    ("/work-orders/<int:order_id>", "order", office.order, VIEW, ["GET"]),
    ("/work-orders/<int:order_id>/edit", "order_edit", office.order_edit, MANAGE, ["GET", "POST"]),
    ("/routings", "routings", office.routing_list, VIEW, ["GET"]),
    ("/routings/new", "routing_new", office.routing_new, MANAGE, ["POST"]),
    ("/routings/<int:routing_id>", "routing", office.routing, VIEW, ["GET"]),
    ("/routings/<int:routing_id>/steps", "routing_step_add", office.routing, MANAGE, ["POST"]),
    ("/routings/<int:routing_id>/steps/delete", "routing_step_delete", office.routing_step_delete, MANAGE, ["POST"]),
    ("/import", "import_page", office.import_page, MANAGE, ["GET", "POST"]),
    ("/settings", "settings", office.settings_page, MANAGE, ["GET", "POST"]),
    ("/terminal", "terminal", floor.terminal, REPORT, ["GET"]),
    ("/terminal/machines/<int:machine_id>", "terminal_machine", floor.machine_list, REPORT, ["GET"]),
    ("/terminal/work-centers/<int:work_center_id>", "terminal_center", floor.center_list, REPORT, ["GET"]),
    ("/terminal/operations/<int:operation_id>", "terminal_operation", floor.terminal_operation, REPORT, ["GET"]),
    ("/terminal/operations/<int:operation_id>/panel", "terminal_panel", floor.terminal_panel, REPORT, ["GET"]),
    ("/board", "board", supervisor.board, VIEW, ["GET"]),
    ("/board/live", "board_live", supervisor.board_live, VIEW, ["GET"]),
    ("/kpis", "kpis", supervisor.kpis, VIEW, ["GET"]),
]
# One URL per action, so every path parameter is a record id (the page probes address each).
ROUTES += [
    (f"/work-orders/<int:order_id>/{action}", f"order_{action}", office.order_action(action), MANAGE, ["POST"])
    for action in ("release", "hold", "resume", "cancel", "close")
]
ROUTES += [
    (f"/reports/<int:report_id>/{verb}", f"report_{verb}", office.report_decision(verb), SUPERVISE, ["POST"])
    for verb in ("approve", "reject")
]
ROUTES += [
    (
        f"/routings/<int:routing_id>/{verb}",
        f"routing_{verb.replace('-', '_')}",
        office.routing_action(verb),
        MANAGE,
        ["POST"],
    )
    for verb in ("activate", "new-version", "delete")
]

for rule, endpoint, view, permission, methods in ROUTES:
    bp.add_url_rule(rule, endpoint, permission_required(permission)(view), methods=methods)
