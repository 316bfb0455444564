"""Statistical process control as pure functions: no Flask, no database.

* :mod:`.constants` — the control-chart constants (d2, d3, c4 and the A2, A3, B3, B4, D3, D4 built from them),
  computed from the normal distribution rather than copied from a table;
* :mod:`.charts` — points and phase-I control limits of X̄-R, X̄-S, I-MR, p, np, c and u charts;
* :mod:`.rules` — the eight Nelson rules on standardised points;
* :mod:`.capability` — Cp, Cpk, Pp, Ppk with an Anderson-Darling normality check.

docs/spc.md explains the method in plain words.
"""
