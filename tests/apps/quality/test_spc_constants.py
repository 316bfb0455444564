"""The control-chart constants, computed from the normal distribution, against the published tables.

Reference values: ASTM Manual on Presentation of Data and Control Chart Analysis (STP 15D), reproduced in
Montgomery, Introduction to Statistical Quality Control, appendix table VI. The tables round to three decimals
(c4 to four), and a few entries were rounded from rounded intermediates, so each value must agree to within one
unit of the table's last decimal.
"""

from __future__ import annotations

import pytest

from apps.quality.spc import constants as k

# n: (A2, A3, B3, B4, D3, D4, d2, d3, c4)
TABLE = {
    2: (1.880, 2.659, 0.000, 3.267, 0.000, 3.267, 1.128, 0.853, 0.7979),
    3: (1.023, 1.954, 0.000, 2.568, 0.000, 2.574, 1.693, 0.888, 0.8862),
    4: (0.729, 1.628, 0.000, 2.266, 0.000, 2.282, 2.059, 0.880, 0.9213),
    5: (0.577, 1.427, 0.000, 2.089, 0.000, 2.114, 2.326, 0.864, 0.9400),
    6: (0.483, 1.287, 0.030, 1.970, 0.000, 2.004, 2.534, 0.848, 0.9515),
    7: (0.419, 1.182, 0.118, 1.882, 0.076, 1.924, 2.704, 0.833, 0.9594),
    8: (0.373, 1.099, 0.185, 1.815, 0.136, 1.864, 2.847, 0.820, 0.9650),
    9: (0.337, 1.032, 0.239, 1.761, 0.184, 1.816, 2.970, 0.808, 0.9693),
    10: (0.308, 0.975, 0.284, 1.716, 0.223, 1.777, 3.078, 0.797, 0.9727),
    15: (0.223, 0.789, 0.428, 1.572, 0.347, 1.653, 3.472, 0.756, 0.9823),
    20: (0.180, 0.680, 0.510, 1.490, 0.415, 1.585, 3.735, 0.729, 0.9869),
    25: (0.153, 0.606, 0.565, 1.435, 0.459, 1.541, 3.931, 0.708, 0.9896),
}
FUNCTIONS = (k.a2, k.a3, k.b3, k.b4, k.d3_factor, k.d4_factor, k.d2, k.d3, k.c4)
NAMES = ("A2", "A3", "B3", "B4", "D3", "D4", "d2", "d3", "c4")


@pytest.mark.parametrize("n", sorted(TABLE))
def test_every_constant_matches_the_published_table(n):
    for name, function, published in zip(NAMES, FUNCTIONS, TABLE[n], strict=True):
        tolerance = 0.00011 if name == "c4" else 0.0011
        assert function(n) == pytest.approx(published, abs=tolerance), f"{name}({n})"


def test_exact_values_known_in_closed_form():
    # For two values the mean range is 2/√π and c4 is √(2/π): the integration must reach them closely.
    assert k.d2(2) == pytest.approx(2 / 3.141592653589793**0.5, abs=1e-5)
    assert k.c4(2) == pytest.approx((2 / 3.141592653589793) ** 0.5, abs=1e-12)


@pytest.mark.parametrize("n", [1, 26])
def test_subgroup_sizes_outside_the_tables_are_refused(n):
    with pytest.raises(ValueError, match="subgroup size"):
        k.d2(n)
