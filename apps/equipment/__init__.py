"""Equipment app: machine states, telemetry, alarms, downtime, OEE and maintenance.

Modules by role (the manifest is the only thing the platform imports):

* ``models`` tables; ``settings`` the app's settings and defaults; ``labels`` translated names;
* ``states`` the state timeline (operator, orders and telemetry inputs); ``events`` the orders-app subscribers;
* ``ingest`` telemetry batches (HTTP and MQTT), ``store`` raw points and rollups, ``signing`` MQTT topics and
  signed messages, ``mqtt`` the subscriber (a leader service of ``mes worker``), ``simulator`` the demo gateway;
* ``alarms`` rules and the alarm lifecycle, ``watch`` time-based checks, ``predictive`` the forecasting maths,
  ``forecasting`` the predictive job;
* ``shifts`` shift instances, ``production`` counted parts, ``oee`` OEE and the six big losses, ``downtime``
  Pareto and MTBF/MTTR, ``board`` the live machine picture;
* ``maintenance`` plans and work orders, ``availability`` the public read module for the scheduling app;
* ``configuration`` gateways, metrics, monitoring, rules and plans; ``jobs`` the periodic jobs; ``demo`` the demo
  factory's equipment; ``api`` / ``schemas`` the REST API; ``blueprint`` / ``forms`` / ``templates`` the pages.
"""
