"""Readers: each format parses, malformed files are rejected with the line number and what was expected."""

from __future__ import annotations

import json

import pytest

from apps.scheduling.solver.readers import detect_format, read_fjs, read_instance, read_json, read_jsplib, read_taillard
from apps.scheduling.solver.serialize import instance_to_dict

from .conftest import config, solve_checked

JSPLIB = """# tiny 2x2
2 2
0 3 1 2
1 4 0 1
"""

TAILLARD_PLAIN = """2 3
5 6 7
1 2 3
1 2 3
3 1 2
"""

TAILLARD_LABELLED = """Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound :
           2           3   840612802   398197754          20          18
processing times :
 5 6 7
 1 2 3
machines :
 1 2 3
 3 1 2
"""

FJS = """2 3 1.5
2 1 1 4 2 2 3 3 5
1 2 1 2 3 6
"""


def test_jsplib_machines_are_zero_based():
    inst = read_jsplib(JSPLIB, "tiny")
    assert [m.id for m in inst.machines] == ["M1", "M2"]
    first = inst.jobs[0].operations[0]
    assert first.modes[0].machine == "M1" and first.modes[0].duration == 3
    assert inst.jobs[1].operations[0].modes[0].machine == "M2"


@pytest.mark.parametrize("text", [TAILLARD_PLAIN, TAILLARD_LABELLED])
def test_taillard_times_then_one_based_machines(text):
    inst = read_taillard(text, "ta")
    assert len(inst.jobs) == 2 and len(inst.machines) == 3
    second_job = inst.jobs[1].operations
    assert [(o.modes[0].machine, o.modes[0].duration) for o in second_job] == [("M3", 1), ("M1", 2), ("M2", 3)]
    assert detect_format(text) == "taillard"


def test_fjs_alternatives_and_durations():
    inst = read_fjs(FJS, "f")
    first = inst.jobs[0].operations[0]
    assert [(m.machine, m.duration) for m in first.modes] == [("M1", 4)]
    second = inst.jobs[0].operations[1]
    assert [(m.machine, m.duration) for m in second.modes] == [("M2", 3), ("M3", 5)]
    solution = solve_checked(inst, config(time_limit=2))
    assert solution.objective == 7  # J1: M1 0-4 then M2 4-7; J2 on M1 4-6 or M3 0-6


def test_json_round_trip(tmp_path):
    inst = read_fjs(FJS, "f")
    path = tmp_path / "f.json"
    path.write_text(json.dumps(instance_to_dict(inst)))
    again = read_instance(path)
    assert again.jobs == inst.jobs and again.machines == inst.machines


def test_detect_format_by_content_and_name(tmp_path):
    assert detect_format(JSPLIB) == "jsplib"
    assert detect_format(FJS, "x.fjs") == "fjs"
    assert detect_format('{"jobs": []}') == "json"
    path = tmp_path / "tiny"
    path.write_text(TAILLARD_PLAIN)
    assert read_instance(path).name == "tiny"


@pytest.mark.parametrize(
    "reader, text, line, expected",
    [
        (read_jsplib, "2 2\n0 3 1 2\n1 4 0\n", 3, "expected 4 numbers"),
        (read_jsplib, "2 2\n0 3 1 2\n1 4 5 1\n", 3, "machine number between 0 and 1"),
        (read_jsplib, "2 2\n0 3 1 x\n1 4 0 1\n", 2, "got 'x'"),
        (read_jsplib, "2 2\n0 3 1 2\n", 3, "expected 2 job lines"),
        (read_jsplib, "2\n0 3 1 2\n", 1, "header"),
        (read_taillard, "2 3\n5 6 7\n1 2 3\n1 2 3\n3 1 4\n", 5, "between 1 and 3"),
        (read_taillard, "2 3\n5 6 7\n1 2\n1 2 3\n3 1 2\n", 3, "expected 3 processing times"),
        (read_fjs, "2 3\n2 1 1 4 2 2 3 3\n1 2 1 2 3 6\n", 2, "expected a duration"),
        (read_fjs, "2 3\n2 1 1 4 1 4 3\n1 2 1 2 3 6\n", 2, "between 1 and 3"),
        (read_fjs, "2 3\n1 1 1 4 9\n1 2 1 2 3 6\n", 2, "expected 4 numbers"),
        (read_fjs, "1 3\n1 1 1 4\n1 1 1 1\n", 3, "end of file"),
        (read_json, '{"jobs": [\n', 2, "valid JSON"),
    ],
)
def test_malformed_files_name_line_and_expectation(reader, text, line, expected):
    with pytest.raises(ValueError) as error:
        reader(text, "bad")
    message = str(error.value)
    assert f"line {line}:" in message and expected in message


def test_read_instance_prefixes_path(tmp_path):
    path = tmp_path / "broken.fjs"
    path.write_text("1 2\n1 1 3 4\n")
    with pytest.raises(ValueError, match=r"broken\.fjs: line 2: expected a machine number between 1 and 2"):
        read_instance(path)


def test_every_shared_instance_parses(shared_bench):
    bounds = json.loads((shared_bench / "fjsp" / "bounds.json").read_text())
    for info in bounds.values():
        inst = read_instance(shared_bench / "fjsp" / info["file"])
        assert len(inst.jobs) == info["jobs"]
    bounds = json.loads((shared_bench / "jssp" / "bounds.json").read_text())
    for name, info in bounds.items():
        inst = read_instance(shared_bench / "jssp" / info["file"])
        assert (len(inst.jobs), len(inst.machines)) == (info["jobs"], info["machines"]), name
