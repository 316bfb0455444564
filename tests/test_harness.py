"""The throwaway backends the suite starts really work (PostgreSQL server, Mosquitto broker)."""

from __future__ import annotations

import queue

import paho.mqtt.client as mqtt
import sqlalchemy as sa


def test_postgres_server_answers(postgres_server):
    engine = sa.create_engine(postgres_server)
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SHOW server_version_num")).isdigit()
    engine.dispose()


def test_mqtt_broker_round_trip_at_qos_1(mqtt_port):
    received: queue.Queue = queue.Queue()
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-sub")
    subscriber.on_message = lambda _c, _u, message: received.put((message.topic, message.payload))
    subscriber.connect("127.0.0.1", mqtt_port)
    subscriber.subscribe("mes/+/machine/+/telemetry", qos=1)
    subscriber.loop_start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-pub")
    publisher.connect("127.0.0.1", mqtt_port)
    publisher.loop_start()
    try:
        for _ in range(50):  # the subscription is live once a retried publish gets through
            publisher.publish("mes/DEMO/machine/CNC-01/telemetry", b'{"v": 1}', qos=1).wait_for_publish(5)
            try:
                topic, payload = received.get(timeout=0.2)
                break
            except queue.Empty:
                continue
        else:
            raise AssertionError("no message came back from the broker")
        assert topic == "mes/DEMO/machine/CNC-01/telemetry" and payload == b'{"v": 1}'
    finally:
        for client in (publisher, subscriber):
            client.loop_stop()
            client.disconnect()
