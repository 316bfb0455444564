"""Words for the codes the quality app stores (statuses, kinds, rules), in the reader's language."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

PLAN_STATUS = {
    "draft": _l("Draft"),
    "active": _l("Active"),
    "superseded": _l("Superseded"),
    "retired": _l("Retired"),
}
CHARACTERISTIC_KIND = {"variable": _l("Measured (variables)"), "attribute": _l("Pass/fail (attributes)")}
SAMPLING_KIND = {
    "first_of_shift": _l("First piece of each shift"),
    "first_of_order": _l("First piece of each order"),
    "every_n": _l("Every N pieces"),
    "per_lot": _l("Every lot"),
    "percent": _l("A share of each quantity"),
    "incoming": _l("Incoming material"),
    "manual": _l("By hand"),
}
CHART_TYPE = {
    "xbar_r": _l("X̄-R (means and ranges)"),
    "xbar_s": _l("X̄-S (means and standard deviations)"),
    "imr": _l("I-MR (individuals and moving ranges)"),
    "p": _l("p (fraction defective)"),
    "np": _l("np (number defective)"),
    "c": _l("c (defects)"),
    "u": _l("u (defects per unit)"),
}
SECOND_CHART = {"xbar_r": _l("Range"), "xbar_s": _l("Standard deviation"), "imr": _l("Moving range")}
TASK_STATUS = {"open": _l("Open"), "done": _l("Done"), "cancelled": _l("Cancelled")}
INSPECTION_STATUS = {"passed": _l("Pass"), "failed": _l("Fail")}
NCR_STATUS = {
    "open": _l("Open"),
    "proposed": _l("Disposition proposed"),
    "dispositioned": _l("Disposition approved"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
NCR_SOURCE = {"inspection": _l("Failed inspection"), "scrap": _l("Scrap report"), "manual": _l("By hand")}
DISPOSITION = {
    "rework": _l("Rework the pieces"),
    "scrap": _l("Scrap the pieces"),
    "use_as_is": _l("Use as is (concession)"),
    "return_to_supplier": _l("Return to supplier"),
}
ACTION_STEP = {
    "containment": _l("Containment"),
    "cause": _l("Root cause"),
    "corrective": _l("Corrective action"),
    "preventive": _l("Preventive action"),
    "verification": _l("Verification"),
}
ACTION_STATUS = {"open": _l("Open"), "done": _l("Done")}
ALARM_STATUS = {"open": _l("Open"), "acknowledged": _l("Acknowledged")}
PHASE = {
    "collecting": _l("Collecting data: limits are drawn from 20 points on"),
    "trial": _l("Trial limits (phase I): fix them from a baseline"),
    "fixed": _l("Fixed limits"),
}
CAPABILITY_WARNINGS = {
    "few_values": _l("Fewer than 30 values: the indices are rough estimates."),
    "small_sample": _l("Fewer than 100 values: see how wide the confidence interval of Cpk still is."),
    "not_normal": _l(
        "The values do not look normally distributed (Anderson-Darling p < 0.05): the indices and the predicted "
        "out-of-tolerance rate may mislead."
    ),
    "normality_unknown": _l("Too few values to check whether they are normally distributed."),
    "one_sided": _l("Only one specification limit: Cp and Pp do not apply; Cpk and Ppk use that side."),
    "not_in_control": _l("The chart shows rule violations: capability describes a stable process only."),
    "no_fixed_limits": _l("The chart has no fixed limits yet: the within-subgroup sigma comes from these data."),
    "attribute_chart": _l("Capability indices apply to measured characteristics."),
    "no_specification": _l(
        "The characteristic has no specification limits: set them in its inspection plan to compute capability."
    ),
}
KPI = {
    "fpy": _l("First-pass yield"),
    "pareto": _l("Defect Pareto"),
    "ppm": _l("PPM"),
    "scrap_cost": _l("Scrap cost"),
    "ncr_ageing": _l("NCR ageing"),
}


def label(mapping: dict, value) -> str:
    """The words for a code (an enum or its value); the code itself when none are known."""
    key = value.value if isinstance(value, enum.Enum) else value
    return str(mapping.get(key, key if key is not None else ""))
