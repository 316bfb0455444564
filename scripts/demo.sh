#!/usr/bin/env bash
# Runs the demo factory on this machine: embedded SQLite in ./var, gunicorn on 127.0.0.1 and the background
# worker beside it (from the Procfile, started and stopped together by honcho). When Mosquitto is installed,
# a loopback broker and a simulated machine gateway run too, so the equipment pages show live telemetry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MES_LOG_LEVEL=${MES_LOG_LEVEL:-WARNING}
PORT=${PORT:-8000}
.venv/bin/mes db upgrade
.venv/bin/mes demo
processes=(web worker)
MOSQUITTO=$(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null || true)
if [ -n "$MOSQUITTO" ]; then
  export MOSQUITTO MES_EQUIPMENT_MQTT_ENABLED=true MES_EQUIPMENT_MQTT_HOST=127.0.0.1 MES_EQUIPMENT_MQTT_PORT=18830
  processes+=(broker gateway)
else
  echo "Mosquitto is not installed: machine telemetry is off (apt-get install mosquitto to see it live)."
fi
echo
echo "MES Suite is running at http://127.0.0.1:${PORT}/  (API docs: http://127.0.0.1:${PORT}/api/v1/docs; Ctrl+C stops)"
export DEMO_PORT=$PORT
exec .venv/bin/honcho -f Procfile start "${processes[@]}"
