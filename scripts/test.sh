#!/usr/bin/env bash
# Runs the whole test suite (lint, SQLite, PostgreSQL, MQTT broker, browser).
#   --strict   a missing PostgreSQL, Mosquitto or Chromium fails the run instead of skipping its tests
# Other arguments go to pytest (e.g. --backend sqlite, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for arg in "$@"; do
  if [ "$arg" = "--strict" ]; then export MES_TEST_STRICT=1; else args+=("$arg"); fi
done
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet platform_core apps tests || { echo "ruff format: run .venv/bin/ruff format"; exit 1; }
rc=0
.venv/bin/python -m pytest "${args[@]}" || rc=$?
if [ "$rc" -eq 5 ]; then echo "no tests were collected: that is a failure"; exit 1; fi
exit "$rc"
