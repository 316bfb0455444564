"""The eight Nelson rules, each at the edge of its pattern: the shortest run that fires and one point less."""

from __future__ import annotations

import pytest

from apps.quality.spc.rules import RULES, all_violations, violations_at


def fired(z, rule=None):
    """Rules firing at the last point."""
    return {v.rule for v in violations_at(z, len(z) - 1, RULES if rule is None else (rule,))}


def test_rule_1_a_point_beyond_three_sigma():
    assert fired([0.2, -3.01]) == {1}
    assert violations_at([0.2, -3.01], 1)[0].side == "below"
    assert 1 not in fired([0.2, 3.0])  # on the limit is not beyond it


def test_rule_2_nine_in_a_row_on_one_side():
    assert fired([0.5] * 9, 2) == {2}
    assert fired([0.5] * 8, 2) == set()
    assert fired([0.5] * 4 + [0.0] + [0.5] * 4, 2) == set()  # a point on the centre line breaks the run
    assert fired([-0.1] * 9, 2) == {2}


def test_rule_3_six_points_steadily_increasing_or_decreasing():
    assert fired([-1.0, -0.6, -0.2, 0.1, 0.4, 0.9], 3) == {3}
    assert violations_at([1.0, 0.8, 0.5, 0.1, -0.2, -0.3], 5, (3,))[0].side == "down"
    assert fired([-0.6, -0.2, 0.1, 0.4, 0.9], 3) == set()  # five points
    assert fired([-1.0, -0.6, -0.2, -0.2, 0.4, 0.9], 3) == set()  # a tie breaks the trend


def test_rule_4_fourteen_points_alternating():
    saw = [0.5 if i % 2 else -0.5 for i in range(14)]
    assert fired(saw, 4) == {4}
    assert fired(saw[:13], 4) == set()
    assert fired([*saw[:12], saw[11], saw[12]], 4) == set()


def test_rule_5_two_of_three_beyond_two_sigma_on_one_side():
    assert fired([2.1, 0.0, 2.5], 5) == {5}
    assert fired([2.1, 2.5], 5) == {5}
    assert fired([2.1, 0.0, -2.5], 5) == set()  # opposite sides
    assert fired([2.1, 0.0, 0.3, 2.5], 5) == set()  # the first is four points back
    assert fired([2.1, 2.5, 0.3], 5) == set()  # the pattern is completed by a point beyond, not by this one


def test_rule_6_four_of_five_beyond_one_sigma_on_one_side():
    assert fired([-1.5, -1.2, 0.0, -1.1, -1.9], 6) == {6}
    assert fired([-1.5, -1.2, 0.0, 0.0, -1.9], 6) == set()
    assert fired([-1.5, -1.2, -1.3, -1.1, 0.4], 6) == set()


def test_rule_7_fifteen_points_hugging_the_centre_line():
    hugging = [0.3, -0.4, 0.9, -0.9, 0.1] * 3
    assert fired(hugging, 7) == {7}
    assert fired(hugging[:14], 7) == set()
    assert fired([*hugging[:14], 1.0], 7) == set()


def test_rule_8_eight_points_avoiding_the_middle_on_both_sides():
    avoiding = [1.5, -1.2, 1.1, -2.0, 1.3, 1.4, -1.6, 1.2]
    assert fired(avoiding, 8) == {8}
    assert fired(avoiding[:7], 8) == set()
    assert fired([1.5] * 8, 8) == set()  # all on one side is rule 2's business, not rule 8's


def test_a_slow_drift_trips_a_rule_before_any_point_leaves_the_limits():
    # A tool wearing: each subgroup mean 0.15 sigma higher than the one before.
    z = [round(-1.0 + 0.15 * i, 2) for i in range(20)]
    assert max(abs(v) for v in z) < 3  # no point ever leaves the limits
    first = min(v.index for v in all_violations(z))
    assert first == 5  # the sixth rising point
    assert {v.rule for v in all_violations(z) if v.index == first} == {3}


@pytest.mark.parametrize("rule", RULES)
def test_a_quiet_random_looking_sequence_fires_nothing(rule):
    quiet = [0.3, -1.2, 0.8, 0.1, -0.5, 1.4, -0.2, 0.6, -1.1, 0.4, 0.0, -0.7, 1.1, -0.3, 0.5, 1.3, -1.6]
    assert list(all_violations(quiet, (rule,))) == []
