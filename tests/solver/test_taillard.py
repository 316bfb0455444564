"""The Taillard (1993) job-shop generator in bench/taillard.py reproduces the published instances."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from apps.scheduling.solver.readers import read_jsplib

from .conftest import REPO, bench_dir

_SPEC = importlib.util.spec_from_file_location("bench_taillard", REPO / "bench" / "taillard.py")
taillard = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(taillard)

# First job line of ta01 (machine, duration pairs), as in the OR-Library / JSPLIB file.
TA01_FIRST_JOB = [
    (6, 94), (12, 66), (4, 10), (7, 53), (3, 26), (2, 15), (10, 65), (11, 82),
    (8, 10), (14, 27), (9, 93), (13, 92), (5, 96), (0, 70), (1, 83),
]  # fmt: skip
TA01_LAST_JOB_TAIL = [(9, 20), (5, 97)]


def test_ta01_numbers_without_the_shared_folder():
    routes = taillard.routes("ta01")
    assert len(routes) == 15
    assert all(len(route) == 15 and sorted(m for m, _ in route) == list(range(15)) for route in routes)
    assert routes[0] == TA01_FIRST_JOB
    assert routes[-1][-2:] == TA01_LAST_JOB_TAIL
    text = taillard.text("ta01")
    assert text.startswith("15 15\n 6 94 12 66  4 10  7 53 ")
    assert text.endswith(" 9 20  5 97 \n")


def test_sizes_and_processing_times_of_all_groups():
    for number in (1, 11, 21, 31, 41, 51, 61, 71):
        jobs, machines, _, _ = taillard.parameters(f"ta{number:02d}")
        assert (jobs, machines) == taillard.SIZES[(number - 1) // 10]
    durations = [d for route in taillard.routes("ta71") for _, d in route]
    assert len(durations) == 100 * 20
    assert min(durations) >= 1
    assert max(durations) <= 99


def test_ta01_matches_the_stored_file_byte_for_byte():
    stored = bench_dir() / "jssp" / "ta01"
    if not stored.is_file():
        pytest.skip(f"shared benchmark file {stored} not found (set MES_BENCH_DIR to compare with it)")
    assert taillard.text("ta01") == stored.read_text()
    assert read_jsplib(taillard.text("ta01"), "ta01") == read_jsplib(stored.read_text(), "ta01")


def test_generator_is_deterministic():
    assert taillard.text("ta41") == taillard.text("ta41")
    assert taillard.generate(20, 15, 12345, 67890) == taillard.generate(20, 15, 12345, 67890)
    assert taillard.generate(20, 15, 12345, 67890) != taillard.generate(20, 15, 12346, 67890)


def test_name_spellings():
    assert taillard.canonical("taillard:ta41") == "ta41"
    assert taillard.canonical("TA041") == "ta41"
    assert taillard.text("taillard:ta05") == taillard.text("ta05")


@pytest.mark.parametrize("name", ["ta00", "ta81", "ta", "la01", "taillard:", "taillard:ta100", "ta1x"])
def test_unknown_names_are_refused(name):
    with pytest.raises(ValueError, match=r"unknown Taillard job-shop instance .*expected ta01 \.\.\. ta80"):
        taillard.routes(name)


def test_bad_seeds_and_sizes_are_refused():
    with pytest.raises(ValueError, match="seed"):
        taillard.generate(5, 5, 0, 1)
    with pytest.raises(ValueError, match="positive"):
        taillard.generate(0, 5, 1, 1)


def test_command_line_prints_one_instance_and_refuses_unknown_names():
    script = str(REPO / "bench" / "taillard.py")
    done = subprocess.run([sys.executable, script, "ta01"], capture_output=True, text=True, check=True)
    assert done.stdout == taillard.text("ta01")
    refused = subprocess.run([sys.executable, script, "ta81"], capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "unknown Taillard job-shop instance 'ta81'" in refused.stderr
