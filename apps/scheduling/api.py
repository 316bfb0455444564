"""Scheduling API under ``/api/v1/scheduling``: runs and their live progress, versions and their comparison,
publishing, the Gantt's data, manual moves and locks, settings and changeover times.

Solving never happens in a request: creating a run (or re-optimising) queues a job for the workers and answers
at once; ``/runs/<id>/progress`` tells how it goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from flask_babel import gettext as _

from apps.orders import planning
from apps.scheduling import gantt, interventions, publishing, settings
from apps.scheduling import kpis as k
from apps.scheduling import problems as pb
from apps.scheduling import runs as r
from apps.scheduling import schemas as s
from apps.scheduling.models import SOLVED, Run, SetupTime, Slot
from platform_core.api import ApiBlueprint, AppInfoSchema, SelectPage, app_info, record_loader
from platform_core.db import db
from platform_core.errors import NotFound, ValidationFailed
from platform_core.identity.auth import current_principal

VIEW, PLAN, PUBLISH = "scheduling.view", "scheduling.plan", "scheduling.publish"


def _slot_loader(slot_id: int) -> Slot:
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise NotFound(_("No such slot."))
    return slot


blp = ApiBlueprint(
    "scheduling_api",
    __name__,
    description="Optimised schedules, Gantt chart and publishing to the shop floor.",
    loaders={
        "run_id": record_loader(Run, lambda: _("No such schedule run.")),
        "slot_id": _slot_loader,
        "setup_time_id": record_loader(SetupTime, lambda: _("No such changeover time.")),
    },
)


def _actor() -> str:
    return current_principal().actor.label


def _language() -> str:
    from platform_core.web import current_language

    return current_language()


def _of_run(run: Run, slot: Slot) -> Slot:
    if slot.run_id != run.id:
        raise NotFound(_("No such slot."))
    return slot


@blp.route("/")
class Info(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("scheduling")


# --- settings --------------------------------------------------------------------------------------------------


@blp.route("/settings")
class Settings(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.SchedulingSettingsSchema)
    def get(self):
        """The factory's planning settings."""
        return settings.get_settings(db.session)

    @blp.requires(PLAN)
    @blp.arguments(s.SchedulingSettingsSchema)
    @blp.etag
    @blp.response(200, s.SchedulingSettingsSchema)
    def patch(self, data):
        """Change planning settings (If-Match required)."""
        blp.check_etag(settings.get_settings(db.session), s.SchedulingSettingsSchema)
        return settings.update_settings(db.session, **data)


@blp.route("/setup-times")
class SetupTimes(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.SchedulingSetupTimeSchema(many=True))
    def get(self):
        """Changeover minutes between product families (pairs not listed use the settings' default)."""
        return settings.setup_times(db.session)

    @blp.requires(PLAN)
    @blp.arguments(s.SchedulingSetupTimeInSchema)
    @blp.response(201, s.SchedulingSetupTimeSchema)
    def post(self, data):
        """Record or change the changeover time from one family to another."""
        return settings.set_setup_time(db.session, data["from_family_id"], data["to_family_id"], data["minutes"])


@blp.route("/setup-times/<int:setup_time_id>")
class SetupTimeItem(MethodView):
    @blp.requires(PLAN)
    @blp.response(204)
    def delete(self, setup_time):
        """Forget a changeover time (the default applies again)."""
        settings.delete_setup_time(db.session, setup_time)


# --- what would be planned -------------------------------------------------------------------------------------


@blp.route("/orders")
class OpenOrders(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.SchedulingOpenOrderSchema(many=True))
    def get(self):
        """Released and running orders with work left: what a run can schedule."""
        return planning.open_orders(db.session)


@blp.route("/check")
class Check(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.SchedulingOrdersArgsSchema, location="query")
    @blp.response(200, s.SchedulingCheckSchema)
    def get(self, args):
        """Data problems a run of these orders (default: all) would meet, in words, before anything is solved."""
        found = r.preview(db.session, args.get("order_ids"))
        return {**found, "problems": pb.described(found["problems"])}


# --- runs ------------------------------------------------------------------------------------------------------


@blp.route("/runs")
class Runs(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.SchedulingRunListArgsSchema, location="query")
    @blp.response(200, s.SchedulingRunSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Runs and versions, newest first."""
        return r.runs_query(args.get("status"))

    @blp.requires(PLAN)
    @blp.arguments(s.SchedulingRunCreateSchema)
    @blp.response(201, s.SchedulingRunSchema)
    def post(self, data):
        """Queue a scheduling run; the workers solve it (follow it at /runs/<id>/progress)."""
        return r.create_run(db.session, actor=_actor(), **data)


@blp.route("/runs/<int:run_id>")
class RunItem(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.SchedulingRunSchema)
    def get(self, run):
        """A run and the version it produced: KPIs, data problems, explanation."""
        return run


@blp.route("/runs/<int:run_id>/progress")
class RunProgress(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.SchedulingProgressSchema)
    def get(self, run):
        """Live progress: elapsed time, best objective so far, bound and gap, improving solutions over time."""
        return r.progress(db.session, run)


@blp.route("/runs/<int:run_id>/cancel")
class RunCancel(MethodView):
    @blp.requires(PLAN)
    @blp.response(200, s.SchedulingRunSchema)
    def post(self, run):
        """Cancel a queued or running run."""
        return r.cancel_run(db.session, run)


@blp.route("/runs/<int:run_id>/discard")
class RunDiscard(MethodView):
    @blp.requires(PLAN)
    @blp.response(200, s.SchedulingRunSchema)
    def post(self, run):
        """Discard a draft or a repair proposal."""
        return r.discard_run(db.session, run)


@blp.route("/runs/<int:run_id>/copy")
class RunCopy(MethodView):
    @blp.requires(PLAN)
    @blp.response(201, s.SchedulingRunSchema)
    def post(self, run):
        """Copy a version as a draft, to move and lock operations in."""
        return r.copy_run(db.session, run, actor=_actor())


@blp.route("/runs/<int:run_id>/reoptimise")
class RunReoptimise(MethodView):
    @blp.requires(PLAN)
    @blp.response(201, s.SchedulingRunSchema)
    def post(self, run):
        """Queue a run that keeps the version's locks and re-plans the rest as close to it as possible."""
        return interventions.reoptimise(db.session, run, actor=_actor())


@blp.route("/runs/<int:run_id>/publish")
class RunPublish(MethodView):
    @blp.requires(PUBLISH)
    @blp.response(200, s.SchedulingRunSchema)
    def post(self, run):
        """Publish the version: it becomes the plan, and the tablets' dispatch lists follow it."""
        return publishing.publish(db.session, run, actor=_actor())


@blp.route("/runs/<int:run_id>/slots")
class RunSlots(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.SchedulingSlotSchema(many=True))
    def get(self, run):
        """The version's operations with machine, start and end, in time order."""
        return r.slots_of(db.session, run)


@blp.route("/runs/<int:run_id>/gantt")
class RunGantt(MethodView):
    @blp.requires(VIEW)
    @blp.response(200)
    def get(self, run):
        """The Gantt chart's data: bars, non-working time, maintenance and breakdowns, machine time held by the
        published work of orders the version left out, actuals, now (epoch ms)."""
        if run.status not in SOLVED:
            raise ValidationFailed(_("This run has no schedule."), errors={"run_id": [_("Not solved.")]})
        return gantt.gantt(db.session, run, language=_language())


@blp.route("/runs/<int:run_id>/slots/<int:slot_id>/move")
class SlotMove(MethodView):
    @blp.requires(PLAN)
    @blp.arguments(s.SchedulingMoveSchema)
    @blp.response(200, s.SchedulingRunSchema)
    def post(self, data, run, slot):
        """Move an operation to another eligible machine or time and lock it there (the move is checked)."""
        slot = _of_run(run, slot)
        return interventions.move(db.session, run, slot, machine=data["machine_id"], start=data["start"])


@blp.route("/runs/<int:run_id>/slots/<int:slot_id>/lock")
class SlotLock(MethodView):
    @blp.requires(PLAN)
    @blp.response(200, s.SchedulingRunSchema)
    def post(self, run, slot):
        """Lock an operation to its machine and start; re-optimising keeps it there."""
        return interventions.lock(db.session, run, _of_run(run, slot))


@blp.route("/runs/<int:run_id>/slots/<int:slot_id>/unlock")
class SlotUnlock(MethodView):
    @blp.requires(PLAN)
    @blp.response(200, s.SchedulingRunSchema)
    def post(self, run, slot):
        """Release a lock."""
        return interventions.unlock(db.session, run, _of_run(run, slot))


@blp.route("/compare")
class Compare(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.SchedulingCompareArgsSchema, location="query")
    @blp.response(200, s.SchedulingComparisonSchema)
    def get(self, args):
        """Versions side by side: late orders, weighted tardiness, makespan, setup time, utilisation per machine,
        operations moved against the published version."""
        ids = list(dict.fromkeys(args["run_ids"]))
        found = {run.id: run for run in db.session.scalars(sa.select(Run).where(Run.id.in_(ids)))}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationFailed(
                _("Unknown schedule runs."), errors={"run_ids": {str(i): [_("No such run.")] for i in missing}}
            )
        return k.compare(db.session, [found[i] for i in ids])
