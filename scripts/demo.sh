#!/usr/bin/env bash
# Runs the demo factory on this machine: embedded SQLite in ./var, gunicorn on 127.0.0.1 and the background
# worker beside it (both from the Procfile, started and stopped together by honcho).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MES_LOG_LEVEL=${MES_LOG_LEVEL:-WARNING}
PORT=${PORT:-8000}
.venv/bin/mes db upgrade
.venv/bin/mes demo
echo
echo "MES Suite is running at http://127.0.0.1:${PORT}/  (API docs: http://127.0.0.1:${PORT}/api/v1/docs; Ctrl+C stops)"
export DEMO_PORT=$PORT
exec .venv/bin/honcho -f Procfile start
