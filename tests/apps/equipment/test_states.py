"""The state timeline: precedence of inputs, operator down/up (also dated back), orders events, late inputs,
and the invariants (no gap, no overlap, one open interval) under any sequence of inputs."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.equipment import events as subscribers
from apps.equipment import ingest, states
from apps.equipment.models import MachineStatus, State, StateSource
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition, ValidationFailed
from platform_core.events import Event, OutboxEvent
from tests.apps.equipment.conftest import assert_timeline_invariants, next_code


def minutes_ago(n: float) -> dt.datetime:
    return utcnow() - dt.timedelta(minutes=n)


def event(name: str, **payload) -> Event:
    return Event(str(uuid.uuid4()), name, 0, payload, utcnow(), {})


@pytest.mark.parametrize(
    ("manual", "setup", "active", "telemetry", "monitored", "expected"),
    [
        (State.MAINTENANCE, [1], [1], State.RUNNING, True, State.MAINTENANCE),
        (State.DOWN, [1], [1], State.RUNNING, True, State.DOWN),
        (None, [1], [1], State.RUNNING, True, State.SETUP),
        (None, [], [1], None, True, State.OFFLINE),
        (None, [], [], State.RUNNING, True, State.RUNNING),
        (None, [], [1], State.IDLE, True, State.IDLE),
        (None, [], [1], None, False, State.RUNNING),
        (None, [], [], None, False, State.IDLE),
    ],
)
def test_the_state_follows_the_inputs_in_order_of_precedence(manual, setup, active, telemetry, monitored, expected):
    status = MachineStatus(manual=manual, setup_operations=setup, active_operations=active, telemetry_state=telemetry)
    assert states.derive_state(status, monitored) is expected


def test_down_then_up_leaves_a_gapless_timeline_and_publishes_both_events(plant):
    machine = plant.machine("M-DU")
    with plant.scope("张伟") as session:
        down = states.report_down(session, machine, reason_id=plant.reasons["TOOL"].id, at=minutes_ago(30))
        assert down.state is State.DOWN and down.source is StateSource.OPERATOR and down.reported_by == "张伟"
        states.report_up(session, machine, at=minutes_ago(5))
        names = session.scalars(sa.select(OutboxEvent.name).order_by(OutboxEvent.occurred_at)).all()
    assert names == ["equipment.machine_down", "equipment.machine_up"]
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    assert [i.state for i in timeline] == [State.DOWN, State.IDLE]
    assert round((timeline[0].ended_at - timeline[0].started_at).total_seconds()) == 25 * 60


def test_reports_that_make_no_sense_are_refused(plant):
    machine = plant.machine("M-RF")
    with plant.scope() as session:
        with pytest.raises(InvalidTransition):
            states.report_up(session, machine)
        states.report_down(session, machine, at=minutes_ago(10))
        with pytest.raises(InvalidTransition):
            states.report_down(session, machine)
        with pytest.raises(ValidationFailed):
            states.report_up(session, machine, at=minutes_ago(20))  # before it went down
        with pytest.raises(ValidationFailed):
            states.report_down(session, plant.machine("M-RF2"), at=utcnow() - dt.timedelta(hours=13))
        with pytest.raises(ValidationFailed):
            states.report_down(session, plant.machine("M-RF3"), reason_id=plant.reasons["BREAK"].id)


def test_a_report_dated_back_replaces_the_automatic_states_since_then(plant):
    machine = plant.machine("M-BD", monitored=True)
    spindle = plant.metrics["spindle_speed"].code
    with plant.scope() as session:
        points = [
            {
                "machine": "M-BD",
                "metric": spindle,
                "ts": minutes_ago(60 - m).isoformat(),
                "value": 0 if m >= 30 else 800,
            }
            for m in range(0, 59)
        ]
        ingest.ingest(session, points)
        before = [i.state for i in plant.timeline(machine)]
        assert State.RUNNING in before and State.IDLE in before
        # the tablet was offline: the operator tapped "down" 35 minutes ago, it arrives now
        states.report_down(session, machine, reason_id=plant.reasons["SPINDLE"].id, at=minutes_ago(35))
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    assert timeline[-1].state is State.DOWN
    assert abs((timeline[-1].started_at - minutes_ago(35)).total_seconds()) < 5
    assert all(i.state is not State.IDLE for i in timeline)  # the idle stretch after the breakdown is gone


def test_a_report_dated_back_over_another_downtime_is_refused(plant):
    machine = plant.machine("M-OV")
    with plant.scope() as session:
        states.report_down(session, machine, at=minutes_ago(50))
        states.report_up(session, machine, at=minutes_ago(40))
        with pytest.raises(Conflict):
            states.report_down(session, machine, at=minutes_ago(45))
    assert_timeline_invariants(plant.timeline(machine))


def test_downtime_without_a_reason_is_flagged_until_a_supervisor_classifies_it(plant):
    from apps.equipment import downtime

    machine = plant.machine("M-CL")
    with plant.scope() as session:
        interval = states.report_down(session, machine)
        assert [i.id for i in downtime.unclassified(session)] == [interval.id]
    with plant.scope("陈军") as session:
        interval = states.get_interval(session, interval.id)
        states.classify(session, interval, plant.reasons["TOOL"].id, note="断刀")
        assert interval.classified_by == "陈军" and interval.reason_id == plant.reasons["TOOL"].id
        assert downtime.unclassified(session) == []


def test_orders_events_drive_setup_running_and_idle(plant):
    machine = plant.machine("M-OR")
    start = minutes_ago(90)
    with plant.scope() as session:
        subscribers.on_operation_started(
            session,
            event(
                "orders.operation_started",
                operation_id=7,
                order_id=3,
                machine_id=machine.id,
                started_at=start.isoformat(),
                phase="setup",
            ),
        )
        assert (
            session.scalar(sa.select(MachineStatus.state).where(MachineStatus.machine_id == machine.id)) is State.SETUP
        )
        subscribers.on_operation_reported(
            session,
            event(
                "orders.operation_reported",
                operation_id=7,
                order_id=3,
                machine_id=machine.id,
                good=5,
                scrap=0,
                rework=0,
                reported_at=(start + dt.timedelta(minutes=20)).isoformat(),
            ),
        )
        subscribers.on_operation_paused(
            session,
            event(
                "orders.operation_paused",
                operation_id=7,
                machine_id=machine.id,
                paused_at=(start + dt.timedelta(minutes=60)).isoformat(),
            ),
        )
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    assert [(i.state, round((i.started_at - start).total_seconds() / 60)) for i in timeline] == [
        (State.SETUP, 0),
        (State.RUNNING, 20),
        (State.IDLE, 60),
    ]


def operation_started(machine, at: dt.datetime, *, resumed: bool, **extra) -> Event:
    """``orders.operation_started`` as the orders app publishes it, plus ``extra`` keys."""
    return event(
        "orders.operation_started",
        order_id=4,
        order_number="WO-0004",
        operation_id=11,
        sequence=10,
        machine_id=machine.id,
        employee_id=None,
        started_at=at.isoformat(),
        resumed=resumed,
        **extra,
    )


def test_an_operation_with_set_up_time_starts_in_set_up_until_its_first_quantities(plant):
    machine = plant.machine("M-SU")
    start = minutes_ago(120)

    def at(minutes: int) -> dt.datetime:
        return start + dt.timedelta(minutes=minutes)

    with plant.scope() as session:
        subscribers.on_operation_started(session, operation_started(machine, at(0), resumed=False, setup_minutes=25))
        subscribers.on_operation_paused(
            session,
            event("orders.operation_paused", operation_id=11, machine_id=machine.id, paused_at=at(10).isoformat()),
        )
        subscribers.on_operation_started(session, operation_started(machine, at(15), resumed=True, setup_minutes=25))
        subscribers.on_operation_reported(
            session,
            event(
                "orders.operation_reported",
                operation_id=11,
                order_id=4,
                machine_id=machine.id,
                good=3,
                scrap=0,
                rework=0,
                reported_at=at(30).isoformat(),
            ),
        )
        subscribers.on_operation_paused(
            session,
            event("orders.operation_paused", operation_id=11, machine_id=machine.id, paused_at=at(60).isoformat()),
        )
        subscribers.on_operation_started(session, operation_started(machine, at(70), resumed=True, setup_minutes=25))
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    assert [(i.state, round((i.started_at - start).total_seconds() / 60)) for i in timeline] == [
        (State.SETUP, 0),
        (State.IDLE, 10),  # a break during the set-up
        (State.SETUP, 15),  # resumed before any quantities: still setting up
        (State.RUNNING, 30),
        (State.IDLE, 60),
        (State.RUNNING, 70),  # resumed after producing: production
    ]
    assert timeline[0].source is StateSource.ORDERS


@pytest.mark.parametrize("extra", [{}, {"setup_minutes": 0}, {"setup_minutes": 25, "phase": "production"}])
def test_an_operation_without_set_up_time_starts_running(plant, extra):
    machine = plant.machine(next_code("M-NS"))
    with plant.scope() as session:
        subscribers.on_operation_started(session, operation_started(machine, minutes_ago(30), resumed=False, **extra))
    assert [i.state for i in plant.timeline(machine)] == [State.RUNNING]


def test_late_automatic_inputs_never_rewrite_history(plant):
    machine = plant.machine("M-LT")
    with plant.scope() as session:
        states.report_down(session, machine, at=minutes_ago(30))
        states.report_up(session, machine, at=minutes_ago(20))
        # an orders event from before the downtime arrives late: it applies from the open interval on
        states.operation_started(session, machine.id, 9, 1, minutes_ago(40), setup=False)
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    assert [i.state for i in timeline] == [State.DOWN, State.RUNNING]
    assert abs((timeline[-1].started_at - minutes_ago(20)).total_seconds()) < 5


INPUTS = st.lists(
    st.tuples(
        st.sampled_from(["down", "up", "start", "setup", "stop", "produce", "points_on", "points_off", "offline"]),
        st.integers(min_value=0, max_value=400),  # minutes before now
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=INPUTS)
def test_any_sequence_of_inputs_keeps_the_timeline_whole(plant, inputs):
    machine = plant.machine(next_code("H"), monitored=True)
    spindle = plant.metrics["spindle_speed"]
    touched = False
    with plant.scope() as session:
        for kind, ago in inputs:
            at = minutes_ago(ago)
            try:
                if kind == "down":
                    states.report_down(session, machine, at=at)
                elif kind == "up":
                    states.report_up(session, machine, at=at)
                elif kind in ("start", "setup"):
                    states.operation_started(session, machine.id, 1, 1, at, setup=kind == "setup")
                elif kind == "stop":
                    states.operation_stopped(session, machine.id, 1, at)
                elif kind == "produce":
                    states.operation_produced(session, machine.id, 1, at)
                elif kind == "offline":
                    from apps.equipment.watch import check_signals

                    check_signals(session, utcnow() + dt.timedelta(hours=1))
                else:
                    value = 1000 if kind == "points_on" else 0
                    points = [
                        {
                            "machine": machine.code,
                            "metric": spindle.code,
                            "ts": (at + dt.timedelta(minutes=m)).isoformat(),
                            "value": value,
                        }
                        for m in range(3)
                    ]
                    ingest.ingest(session, points)
                touched = touched or kind not in ("offline", "up", "produce")
            except (InvalidTransition, ValidationFailed, Conflict):
                pass  # refused reports change nothing
    timeline = plant.timeline(machine)
    if touched or timeline:
        assert_timeline_invariants(timeline)
