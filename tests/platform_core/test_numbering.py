"""Record numbers come from one counter per factory and kind: never the same number twice, even at one moment."""

from __future__ import annotations

import threading

import pytest

from platform_core import numbering
from platform_core.db import TenantContextError, db


def _tenants(make_committed, count: int) -> list[int]:
    return make_committed(lambda make: [make.tenant().id for _ in range(count)])


def _draw(app, tenant_id: int, name: str, in_use: int = 0) -> int:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return numbering.draw(session, name, in_use=in_use)


def _at_once(count: int, draw) -> list[int]:
    """``draw()`` in ``count`` threads released together (each its own connection and transaction)."""
    barrier = threading.Barrier(count)
    drawn: list[int] = []

    def run() -> None:
        barrier.wait()
        drawn.append(draw())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return drawn


def test_each_factory_counts_each_kind_on_its_own(live_app, make_committed):
    first, second = _tenants(make_committed, 2)
    assert [_draw(live_app, first, "QI-") for _ in range(3)] == [1, 2, 3]
    assert _draw(live_app, first, "NCR-26-") == 1
    assert _draw(live_app, second, "QI-") == 1  # another factory starts its own count


def test_a_counter_never_falls_back_behind_the_numbers_in_use(live_app, make_committed):
    (tenant_id,) = _tenants(make_committed, 1)
    assert _draw(live_app, tenant_id, "WO-261204-", in_use=41) == 42  # records from before the counter existed
    assert _draw(live_app, tenant_id, "WO-261204-", in_use=41) == 43
    assert _draw(live_app, tenant_id, "WO-261204-", in_use=50) == 51  # a number typed by hand ahead of it


def test_a_number_drawn_in_a_transaction_that_rolls_back_is_drawn_again(live_app, make_committed):
    (tenant_id,) = _tenants(make_committed, 1)
    with live_app.app_context(), pytest.raises(RuntimeError), db.unit_of_work(tenant_id) as session:
        assert numbering.draw(session, "QT-") == 1
        raise RuntimeError("the record carrying it was refused")
    assert _draw(live_app, tenant_id, "QT-") == 1


def test_requests_drawing_at_the_same_moment_get_different_numbers(live_app, make_committed):
    (tenant_id,) = _tenants(make_committed, 1)
    _draw(live_app, tenant_id, "QI-")  # the counter row exists: the twins contend on its lock
    drawn = _at_once(8, lambda: _draw(live_app, tenant_id, "QI-"))
    assert sorted(drawn) == list(range(2, 10))


def test_the_very_first_draws_of_a_kind_at_one_moment_differ_too(live_app, make_committed):
    (tenant_id,) = _tenants(make_committed, 1)
    drawn = _at_once(6, lambda: _draw(live_app, tenant_id, "MWO-", in_use=7))  # all insert the counter row
    assert sorted(drawn) == list(range(8, 14))


def test_no_number_is_drawn_without_a_factory(live_app):
    with live_app.app_context(), pytest.raises(TenantContextError), db.unit_of_work() as session:
        numbering.draw(session, "QI-")
