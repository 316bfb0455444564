"""Capability indices against the NIST/SEMATECH e-Handbook (6.1.6) and the normality test's published points."""

from __future__ import annotations

import pytest

from apps.quality.spc import capability as cap
from apps.quality.spc.constants import normal_cdf


def test_cp_and_cpk_of_the_nist_example():
    # USL = 20, LSL = 8, x̄ = 16, s = 2: Cp = 1.0 and Cpk = 0.6667 (published).
    cp, cpk = cap.indices(16.0, 2.0, 8.0, 20.0)
    assert cp == pytest.approx(1.0)
    assert cpk == pytest.approx(0.6667, abs=1e-4)


def test_one_sided_specifications_have_no_cp():
    cp, cpk = cap.indices(10.0, 1.0, None, 13.0)
    assert cp is None
    assert cpk == pytest.approx(1.0)
    assert cap.indices(10.0, 1.0, None, None) == (None, None)


def test_expected_ppm_from_the_normal_model():
    # A centred process with Cp = 1: 0.27 % outside, i.e. 2700 ppm.
    assert cap.expected_ppm(0.0, 1.0, -3.0, 3.0) == pytest.approx(2699.8, abs=0.1)


@pytest.mark.parametrize(("a", "p"), [(0.631, 0.10), (0.752, 0.05), (0.873, 0.025), (1.035, 0.01)])
def test_anderson_darling_p_values_at_stephens_critical_points(a, p):
    assert cap.anderson_darling_p(a) == pytest.approx(p, rel=0.06)


def _normal_scores(n: int) -> list[float]:
    """Values at the normal quantiles (Blom positions): as normal-looking as a sample can be."""
    from statistics import NormalDist

    return [NormalDist().inv_cdf((i - 0.375) / (n + 0.25)) for i in range(1, n + 1)]


def test_normal_looking_data_passes_and_skewed_data_fails_the_normality_check():
    assert cap.anderson_darling(_normal_scores(50)).normal
    skewed = [x**2 for x in _normal_scores(50)]  # chi-square with one degree of freedom
    assert not cap.anderson_darling(skewed).normal
    assert cap.anderson_darling([1.0] * 7) is None  # too few values to judge


def test_capability_summary_with_warnings():
    values = [10.0 + 0.1 * x for x in _normal_scores(40)]
    result = cap.capability(values, lsl=9.7, usl=10.4, sigma_within=0.1)
    assert result.cp == pytest.approx(0.7 / 0.6)
    assert result.cpk == pytest.approx(min(0.4, 0.3) / 0.3, abs=1e-9)
    assert result.pp < result.cp + 0.1 and result.ppk is not None
    assert result.warnings == ("small_sample",)
    assert result.cpk_low < result.cpk < result.cpk_high
    expected_ppm = (normal_cdf(-3.0) + 1 - normal_cdf(4.0)) * 1e6
    assert result.ppm_within == pytest.approx(expected_ppm)
    few = cap.capability(values[:12], lsl=9.7, usl=None, sigma_within=0.1)
    assert set(few.warnings) == {"few_values", "one_sided"}


def test_bissell_interval_narrows_with_more_data():
    low_30, high_30 = cap.cpk_interval(1.33, 30)
    low_300, high_300 = cap.cpk_interval(1.33, 300)
    assert high_30 - low_30 > high_300 - low_300
    # n = 30, Cpk = 1.33: half-width 1.96 × √(1/270 + 1.7689/58) = 1.96 × √0.034202 = 0.3625
    assert high_30 - 1.33 == pytest.approx(0.3625, abs=5e-4)
