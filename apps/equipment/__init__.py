"""Equipment app: machine states, telemetry, alarms, downtime, OEE and maintenance."""
