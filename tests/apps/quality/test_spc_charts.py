"""Control limits against published worked examples and hand calculations, never against the code's own output.

Sources:
* NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2.2 (individuals chart of a flow rate, 10 batches),
  6.3.3.1 (c chart of defects on 25 wafers) and 6.3.3.2 (p chart, 30 samples of 50, p̄ = 0.2313);
* Montgomery, Introduction to Statistical Quality Control: piston-ring diameters (X̄-R and X̄-S charts,
  x̿ = 74.001 mm, R̄ = 0.023 mm, s̄ = 0.0094 mm, n = 5), the np chart of the same orange-juice-can data as the
  NIST p chart, and the u chart of defects in personal computers (20 samples of 5, ū = 1.93).
"""

from __future__ import annotations

import statistics

import pytest

from apps.quality.spc.charts import (
    ChartType,
    NotEnoughData,
    Point,
    Sample,
    compute_limits,
    np_limits,
    points,
    standardise,
    u_limits,
    xbar_r_limits,
    xbar_s_limits,
)
from apps.quality.spc.rules import violations_at

FLOW_RATE = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
WAFER_DEFECTS = [16, 14, 28, 16, 12, 20, 10, 12, 10, 17, 19, 17, 14, 16, 15, 13, 14, 16, 11, 20, 11, 19, 16, 31, 13]


def test_individuals_chart_of_the_nist_flow_rate_example():
    plotted = points(ChartType.IMR, [Sample(i, (x,)) for i, x in enumerate(FLOW_RATE)])
    assert [p.secondary for p in plotted[1:]] == pytest.approx([2.0, 2.3, 1.4, 3.5, 3.4, 1.4, 0.2, 1.2, 1.5])
    limits = compute_limits(ChartType.IMR, plotted)
    # Published: x̄ = 50.81, MR̄ = 1.8778, UCL = 55.8041, LCL = 45.8159, MR chart UCL = 6.1347 (d2 = 1.128 and
    # D4 = 3.267 rounded in the handbook, hence the tolerance).
    assert limits.center == pytest.approx(50.81, abs=1e-9)
    assert limits.second_center == pytest.approx(1.8778, abs=1e-4)
    assert limits.ucl == pytest.approx(55.8041, abs=0.003)
    assert limits.lcl == pytest.approx(45.8159, abs=0.003)
    assert limits.second_ucl == pytest.approx(6.1347, abs=0.003)
    assert limits.second_lcl == 0.0


def test_c_chart_of_the_nist_wafer_example():
    plotted = points(ChartType.C, [Sample(i, count=c) for i, c in enumerate(WAFER_DEFECTS)])
    limits = compute_limits(ChartType.C, plotted)
    assert (limits.center, limits.ucl, limits.lcl) == pytest.approx((16.0, 28.0, 4.0))
    z = standardise(limits, plotted)
    beyond = [i for i in range(len(z)) if any(v.rule == 1 for v in violations_at(z, i))]
    assert beyond == [WAFER_DEFECTS.index(31)]  # 28 sits on the upper limit, which is not beyond it


def test_p_chart_of_the_nist_example():
    # 30 samples of 50 with 347 defectives in all: p̄ = 0.2313, UCL = 0.4102, LCL = 0.0524 (published).
    counts = [
        12,
        15,
        8,
        10,
        4,
        7,
        16,
        9,
        14,
        10,
        5,
        6,
        17,
        12,
        22,
        8,
        10,
        5,
        13,
        11,
        20,
        18,
        24,
        15,
        9,
        12,
        7,
        13,
        9,
        6,
    ]
    assert sum(counts) == 347
    plotted = points(ChartType.P, [Sample(i, inspected=50, count=c) for i, c in enumerate(counts)])
    limits = compute_limits(ChartType.P, plotted)
    assert limits.center == pytest.approx(0.2313, abs=1e-4)
    assert limits.ucl == pytest.approx(0.4102, abs=1e-4)
    assert limits.lcl == pytest.approx(0.0524, abs=1e-4)


def test_p_chart_limits_widen_for_smaller_samples():
    limits = compute_limits(
        ChartType.P, points(ChartType.P, [Sample(1, inspected=100, count=10), Sample(2, inspected=25, count=3)])
    )
    p_bar = 13 / 125  # pooled, not the mean of the two fractions
    assert limits.center == pytest.approx(p_bar)
    assert limits.ucl_at(25) == pytest.approx(p_bar + 3 * (p_bar * (1 - p_bar) / 25) ** 0.5)
    assert limits.ucl_at(100) < limits.ucl_at(25)


def test_np_chart_of_the_orange_juice_cans():
    limits = np_limits(0.2313, 50)
    assert (limits.center, limits.ucl, limits.lcl) == pytest.approx((11.57, 20.51, 2.62), abs=0.01)


def test_u_chart_of_the_personal_computers():
    limits = u_limits(1.93, 5)
    assert (limits.center, limits.ucl, limits.lcl) == pytest.approx((1.93, 3.79, 0.07), abs=0.005)
    defects = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]
    samples = [Sample(i, inspected=5, count=c) for i, c in enumerate(defects)]
    assert compute_limits(ChartType.U, points(ChartType.U, samples)).center == pytest.approx(1.93)


def test_xbar_r_and_xbar_s_of_the_piston_rings():
    r = xbar_r_limits(74.001, 0.023, 5)
    assert (r.ucl, r.lcl) == pytest.approx((74.014, 73.988), abs=0.0005)
    assert (r.second_ucl, r.second_lcl) == pytest.approx((0.049, 0.0), abs=0.0005)
    s = xbar_s_limits(74.001, 0.0094, 5)
    assert (s.ucl, s.lcl) == pytest.approx((74.014, 73.988), abs=0.0005)
    assert (s.second_ucl, s.second_lcl) == pytest.approx((0.0196, 0.0), abs=0.0001)


SUBGROUPS = [(10.0, 12.0, 11.0, 13.0), (9.0, 11.0, 10.0, 10.0), (12.0, 14.0, 13.0, 13.0)]


def test_xbar_r_from_raw_subgroups_by_hand():
    # Means 11.5, 10, 13 (x̿ = 11.5); ranges 3, 2, 2 (R̄ = 7/3); table constants for n = 4: A2 = 0.729,
    # D3 = 0, D4 = 2.282, d2 = 2.059.
    plotted = points(ChartType.XBAR_R, [Sample(i, v) for i, v in enumerate(SUBGROUPS)], n=4)
    assert [(p.value, p.secondary) for p in plotted] == [(11.5, 3.0), (10.0, 2.0), (13.0, 2.0)]
    limits = compute_limits(ChartType.XBAR_R, plotted, n=4)
    r_bar = 7 / 3
    assert limits.ucl == pytest.approx(11.5 + 0.729 * r_bar, abs=0.003)
    assert limits.lcl == pytest.approx(11.5 - 0.729 * r_bar, abs=0.003)
    assert limits.second_ucl == pytest.approx(2.282 * r_bar, abs=0.003)
    assert limits.process_sigma == pytest.approx(r_bar / 2.059, abs=0.001)


def test_xbar_s_from_raw_subgroups_by_hand():
    # Standard deviations √(5/3), √(2/3), √(2/3); A3 = 1.628, B4 = 2.266, c4 = 0.9213 for n = 4.
    plotted = points(ChartType.XBAR_S, [Sample(i, v) for i, v in enumerate(SUBGROUPS)], n=4)
    s_bar = ((5 / 3) ** 0.5 + 2 * (2 / 3) ** 0.5) / 3
    limits = compute_limits(ChartType.XBAR_S, plotted, n=4)
    assert limits.second_center == pytest.approx(s_bar)
    assert limits.ucl == pytest.approx(11.5 + 1.628 * s_bar, abs=0.003)
    assert limits.second_ucl == pytest.approx(2.266 * s_bar, abs=0.003)
    assert limits.process_sigma == pytest.approx(s_bar / 0.9213, abs=0.001)


def test_subgroups_of_another_size_are_not_plotted_on_xbar_charts():
    samples = [Sample(1, (1.0, 2.0, 3.0)), Sample(2, (1.0, 2.0)), Sample(3, (2.0, 2.0, 5.0))]
    assert [p.key for p in points(ChartType.XBAR_R, samples, n=3)] == [1, 3]


def test_excluded_points_leave_the_baseline():
    plotted = points(ChartType.XBAR_R, [Sample(i, v) for i, v in enumerate(SUBGROUPS)], n=4)
    limits = compute_limits(ChartType.XBAR_R, plotted, n=4, exclude={2})
    assert limits.center == pytest.approx(statistics.fmean([11.5, 10.0]))
    assert limits.second_center == pytest.approx(2.5)


def test_an_excluded_individual_breaks_the_moving_range_chain():
    plotted = points(ChartType.IMR, [Sample(i, (x,)) for i, x in enumerate([10.0, 30.0, 11.0, 12.0])])
    limits = compute_limits(ChartType.IMR, plotted, exclude={1})
    assert limits.center == pytest.approx(11.0)
    assert limits.second_center == pytest.approx(1.0)  # only 11 → 12 is left; 10 → 30 and 30 → 11 are dropped


def test_a_baseline_needs_points():
    with pytest.raises(NotEnoughData):
        compute_limits(ChartType.C, [Point(1, 3.0, 1)])
