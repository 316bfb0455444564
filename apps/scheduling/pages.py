"""Planner pages: runs and their live progress, versions, comparison, the Gantt, settings.

The pages render what the API offers; writes go through the same services, and a refused write is rolled back
before its message is shown (a redirect would otherwise commit whatever the service did before refusing). Every
page carries the banner of pending repair proposals, from which a planner publishes or discards one at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from apps.orders import planning
from apps.scheduling import forms, interventions, publishing, settings
from apps.scheduling import kpis as k
from apps.scheduling import presets as p
from apps.scheduling import problems as pb
from apps.scheduling import runs as r
from apps.scheduling.assembly import tenant_zone
from apps.scheduling.models import PUBLISHABLE, SOLVED, Preset, Run, SetupTime, Slot
from platform_core.db import db
from platform_core.errors import DomainError
from platform_core.masterdata.models import Machine, ProductFamily
from platform_core.web.redirects import local_path

RECENT = 30


def _actor() -> str:
    return g.principal.actor.label


def _language() -> str:
    from platform_core.web import current_language

    return current_language()


def _run(run_id: int) -> Run:
    run = db.session.get(Run, run_id)
    if run is None:
        abort(404)
    return run


def helpers() -> dict[str, Any]:
    """Formatting for the templates, in the factory's time zone."""
    zone = tenant_zone(db.session)

    def local(moment: dt.datetime | str | None, fmt: str = "%m-%d %H:%M") -> str:
        if not moment:
            return "—"
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        return moment.astimezone(zone).strftime(fmt)

    def duration(minutes: float | None) -> str:
        if not isinstance(minutes, int | float):  # None, or a figure a run without a schedule does not have
            return "—"
        hours, rest = divmod(round(minutes), 60)
        return _("%(h)d h %(m)02d min", h=hours, m=rest) if hours else _("%(m)d min", m=rest)

    return {
        "local": local,
        "duration": duration,
        "state_label": r.state_label,
        "kind_label": lambda kind: str(r.KIND_LABELS[kind]),
        "preset_label": lambda preset: str(p.LABELS[Preset(preset)]),
        "cause_label": cause_label,
        "zone": str(zone.key),
    }


def cause_label(cause: str | None) -> str:
    labels = {
        "machine_down": _("machine down"),
        "machine_up": _("machine running again"),
        "maintenance": _("maintenance planned"),
        "rush_order": _("rush order"),
        "slippage": _("plan slipped"),
    }
    return labels.get(cause or "", cause or "")


def _page(template: str, **context: Any) -> str:
    """A full planning page: its own content, the formatting helpers and the repair proposals banner."""
    return render_template(
        template,
        proposals=r.pending_proposals(db.session),
        banner_next=request.full_path.rstrip("?"),
        **helpers(),
        **context,
    )


def _local_path(target: str | None) -> str | None:
    """``target`` when it is a page of this app (where a banner action returns to), else None."""
    path = local_path(target)
    return path if path and path.startswith(url_for("scheduling.index")) else None


def _refused(error: DomainError) -> None:
    db.session.rollback()
    flash(error.message, "error")


# --- overview ------------------------------------------------------------------------------------------------------


def index():
    runs = db.session.scalars(r.runs_query().limit(RECENT)).all()
    jobs = {run.id: r.job_of(db.session, run) for run in runs}
    return _page(
        "scheduling/index.html",
        published=r.published(db.session),
        runs=runs,
        states={run.id: r.state(run, jobs[run.id]) for run in runs},
    )


def proposals_fragment():
    """The banner again (htmx polls it), its actions still returning to the page it is shown on."""
    return render_template(
        "scheduling/_proposals.html",
        proposals=r.pending_proposals(db.session),
        banner_next=_local_path(request.args.get("next")) or url_for("scheduling.index"),
        **helpers(),
    )


# --- a new run ------------------------------------------------------------------------------------------------------


def _local_to_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=tenant_zone(db.session)).astimezone(dt.UTC)


def run_new():
    current = settings.get_settings(db.session)
    form = forms.RunForm()
    form.preset.choices = forms.preset_choices()
    if request.method == "GET":
        form.preset.data = current.preset.value
        form.time_limit_s.data = current.time_limit_s
    orders = planning.open_orders(db.session)
    chosen_all = request.form.get("scope", "all") == "all"
    chosen = {int(i) for i in request.form.getlist("order_ids") if i.isdigit()}
    if form.validate_on_submit():
        try:
            run = r.create_run(
                db.session,
                actor=_actor(),
                preset=form.preset.data,
                time_limit_s=form.time_limit_s.data,
                horizon_start=_local_to_utc(form.horizon_start.data),
                order_ids=None if chosen_all else sorted(chosen),
                note=form.note.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            for name, messages in (error.errors or {}).items():
                target = getattr(form, name, None)
                if target is not None:
                    target.errors = [*target.errors, *_flat(messages)]
            flash(error.message, "error")
        else:
            flash(_("Run %(label)s is queued; a worker solves it now.", label=run.label), "success")
            return redirect(url_for("scheduling.run", run_id=run.id))
    return _page(
        "scheduling/new.html",
        form=form,
        orders=orders,
        chosen_all=chosen_all,
        chosen=chosen,
        hints={p.value: str(h) for p, h in p.HINTS.items()},
    )


def _flat(messages) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    return [str(m) for m in messages]


def check_fragment():
    """The data problems of the orders chosen on the new-run page (htmx)."""
    ids = None
    if request.args.get("scope", "all") != "all":
        ids = sorted({int(i) for i in request.args.getlist("order_ids") if i.isdigit()})
    found = r.preview(db.session, ids)
    return render_template("scheduling/_check.html", found=found, problems=pb.described(found["problems"]))


# --- a run and its version -------------------------------------------------------------------------------------------


def run_page(run_id: int):
    run = _run(run_id)
    job = r.job_of(db.session, run)
    current = r.published(db.session)
    machines = {m.id: m for m in db.session.scalars(sa.select(Machine))}
    utilisation = sorted(
        (machines[int(machine_id)].code, value)
        for machine_id, value in ((run.kpis or {}).get("utilisation") or {}).items()
        if int(machine_id) in machines
    )
    return _page(
        "scheduling/run.html",
        run=run,
        state=r.state(run, job),
        progress=r.progress(db.session, run),
        published=current,
        solved=run.status in SOLVED,
        publishable=run.status in PUBLISHABLE,
        problems=pb.described(run.problems),
        figures=run.kpis or {},
        utilisation=utilisation,
        moved_now=k.moved(r.slots_of(db.session, run), r.published_plan(db.session))
        if current is not None and current.id != run.id and run.status in SOLVED
        else None,
    )


def run_progress(run_id: int):
    """The live part of a run's page (htmx polls it); once the run is done the whole page reloads."""
    run = _run(run_id)
    progress = r.progress(db.session, run)
    response = make_response(render_template("scheduling/_progress.html", run=run, progress=progress, **helpers()))
    if progress["state"] not in ("queued", "solving") and request.args.get("live") == "1":
        response.headers["HX-Refresh"] = "true"
    return response


def gantt_page(run_id: int):
    run = _run(run_id)
    if run.status not in SOLVED:
        flash(_("This run has no schedule yet."), "error")
        return redirect(url_for("scheduling.run", run_id=run.id))
    view = "order" if request.args.get("view") == "order" else "machine"
    return _page(
        "scheduling/gantt.html",
        run=run,
        view=view,
        editable=run.status in PUBLISHABLE,
        move_form=forms.MoveForm(),
    )


def run_action(action: str):
    """The view of one action on a run (cancel, discard, copy, re-optimise, publish)."""

    def view(run_id: int):
        run = _run(run_id)
        try:
            if action == "cancel":
                r.cancel_run(db.session, run)
                flash(_("Run %(label)s cancelled.", label=run.label), "success")
            elif action == "discard":
                r.discard_run(db.session, run)
                flash(_("Version %(label)s discarded.", label=run.label), "success")
            elif action == "copy":
                run = r.copy_run(db.session, run, actor=_actor())
                flash(_("Draft %(label)s: a copy to change.", label=run.label), "success")
                return redirect(url_for("scheduling.gantt", run_id=run.id))
            elif action == "reoptimise":
                run = interventions.reoptimise(db.session, run, actor=_actor())
                flash(
                    _("Run %(label)s is queued: the rest is re-planned around the locks.", label=run.label), "success"
                )
            elif action == "publish":
                publishing.publish(db.session, run, actor=_actor())
                flash(_("Version %(label)s is published: the shop floor follows it now.", label=run.label), "success")
        except DomainError as error:
            _refused(error)
        return redirect(_local_path(request.form.get("next")) or url_for("scheduling.run", run_id=run.id))

    view.__name__ = f"run_{action}"
    return view


def slot_action(action: str):
    """Move, lock or unlock one operation of a version from the Gantt page."""

    def view(run_id: int, slot_id: int):
        run = _run(run_id)
        slot = db.session.get(Slot, slot_id)
        if slot is None or slot.run_id != run.id:
            abort(404)
        back = url_for("scheduling.gantt", run_id=run.id, view=request.form.get("view") or None)
        try:
            if action == "move":
                form = forms.MoveForm()
                machine = db.session.get(Machine, form.machine_id.data) if form.validate_on_submit() else None
                if machine is None:
                    flash(_("Choose a machine and a start."), "error")
                    return redirect(back)
                interventions.move(db.session, run, slot, machine=machine, start=_local_to_utc(form.start.data))
                flash(
                    _("Moved and locked: %(order)s / %(seq)s.", order=slot.order_number, seq=slot.op_sequence),
                    "success",
                )
            elif action == "lock":
                interventions.lock(db.session, run, slot)
                flash(_("Locked: %(order)s / %(seq)s.", order=slot.order_number, seq=slot.op_sequence), "success")
            else:
                interventions.unlock(db.session, run, slot)
                flash(_("Unlocked: %(order)s / %(seq)s.", order=slot.order_number, seq=slot.op_sequence), "success")
        except DomainError as error:
            db.session.rollback()
            flash(" ".join([error.message, *_flat(error.errors or {})]), "error")
        return redirect(back)

    view.__name__ = f"slot_{action}"
    return view


def compare():
    ids = [int(i) for value in request.args.getlist("run_ids") for i in value.split(",") if i.strip().isdigit()]
    solved = db.session.scalars(r.runs_query(list(SOLVED)).limit(RECENT)).all()
    if not ids:
        current = r.published(db.session)
        drafts = [run.id for run in solved if run.status in PUBLISHABLE][:2]
        ids = ([current.id] if current else []) + drafts
    found = {run.id: run for run in db.session.scalars(sa.select(Run).where(Run.id.in_(ids)))}
    chosen = [found[i] for i in dict.fromkeys(ids) if i in found]
    table = k.compare(db.session, chosen)
    return _page("scheduling/compare.html", table=table, chosen=chosen, candidates=solved)


# --- settings -------------------------------------------------------------------------------------------------------


def _families() -> list[ProductFamily]:
    return list(db.session.scalars(sa.select(ProductFamily).where(ProductFamily.active).order_by(ProductFamily.code)))


def _setup_form() -> forms.SetupTimeForm:
    form = forms.SetupTimeForm(prefix="setup")
    choices = [(f.id, f"{f.code} {f.label(_language())}") for f in _families()]
    form.from_family_id.choices = choices
    form.to_family_id.choices = choices
    return form


def _settings_form(current) -> forms.SettingsForm:
    form = forms.SettingsForm(obj=None if request.method == "POST" else current)
    form.preset.choices = forms.preset_choices()
    if request.method == "GET":
        form.preset.data = current.preset.value
    return form


def settings_page(form: forms.SettingsForm | None = None, setup_form: forms.SetupTimeForm | None = None):
    current = settings.get_settings(db.session)
    return _page(
        "scheduling/settings.html",
        form=form or _settings_form(current),
        setup_form=setup_form or _setup_form(),
        setup_times=settings.setup_times(db.session),
    )


def settings_save():
    current = settings.get_settings(db.session)
    form = _settings_form(current)
    if not form.validate_on_submit():
        return settings_page(form=form), 422
    changes = {name: getattr(form, name).data for name in settings.DEFAULTS if name not in ("version",)}
    try:
        settings.update_settings(db.session, **changes)
    except DomainError as error:
        db.session.rollback()
        for name, messages in (error.errors or {}).items():
            getattr(form, name).errors = _flat(messages)
        return settings_page(form=form), 422
    flash(_("Settings saved."), "success")
    return redirect(url_for("scheduling.settings"))


def setup_time_add():
    form = _setup_form()
    if not form.validate_on_submit():
        return settings_page(setup_form=form), 422
    source = db.session.get(ProductFamily, form.from_family_id.data)
    target = db.session.get(ProductFamily, form.to_family_id.data)
    if source is None or target is None:
        form.from_family_id.errors = [_("Choose from the list.")]
        return settings_page(setup_form=form), 422
    try:
        settings.set_setup_time(db.session, source, target, form.minutes.data)
    except DomainError as error:
        _refused(error)
    return redirect(url_for("scheduling.settings"))


def setup_time_delete(setup_time_id: int):
    row = db.session.get(SetupTime, setup_time_id)
    if row is None:
        abort(404)
    settings.delete_setup_time(db.session, row)
    flash(_("Changeover time removed."), "success")
    return redirect(url_for("scheduling.settings"))
