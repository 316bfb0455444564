"""The container deployment (Dockerfile, docker-compose.yml) is valid and matches what the product provides.

No Docker engine needed: the Compose file is validated offline against the Compose specification and every
command, module, path and setting it names is checked against the code.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

WSGI_MODULE, WSGI_ATTRIBUTE = "platform_core.wsgi", "app"
WSGI_TARGET = f"{WSGI_MODULE}:{WSGI_ATTRIBUTE}"
APP_SERVICES = ("migrate", "web", "worker")  # the services running the application image


def load_yaml(path: Path):
    try:
        from ruamel.yaml import YAML
    except ImportError:  # pragma: no cover - ruamel.yaml comes with check-jsonschema
        import yaml

        return yaml.safe_load(path.read_text(encoding="utf-8"))
    return YAML(typ="safe", pure=True).load(path)


def compose() -> dict:
    return load_yaml(COMPOSE_FILE)


def service(name: str) -> dict:
    return compose()["services"][name]


def argv(command) -> list[str]:
    """A Compose command or healthcheck test as an argument list (string form split like a shell)."""
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment(definition: dict) -> dict[str, str]:
    env = definition.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def depends_on(definition: dict) -> dict[str, str]:
    """Each dependency and its condition (the short list form means service_started)."""
    deps = definition.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def validate_compose(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def mes_commands(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The commands of the ``mes`` console script, as ``mes --help`` lists them (this builds the app)."""
    for name in [name for name in os.environ if name.startswith("MES_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MES_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    from platform_core.cli import main

    with main.make_context("mes", [], resilient_parsing=True) as ctx:
        commands = set(main.list_commands(ctx))
    # FlaskGroup silently lists only its built-in commands when the app fails to load: refuse that here.
    assert "db" in commands, f"the mes command did not load the application's commands: {sorted(commands)}"
    return commands


# --- Compose specification -----------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification():
    result = validate_compose(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_an_unknown_service_key(tmp_path):
    broken = compose()
    broken["services"]["web"]["bogus_key"] = True
    path = tmp_path / "docker-compose.yml"
    path.write_text(json.dumps(broken), encoding="utf-8")  # JSON is YAML
    result = validate_compose(path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "bogus_key" in result.stdout + result.stderr


def test_compose_file_has_no_obsolete_version_key():
    assert "version" not in compose()


# --- What the services run -----------------------------------------------------------------------------------


def test_console_script_mes_is_the_cli_group():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["mes"] == "platform_core.cli:main"


def test_wsgi_module_defines_the_app():
    path = ROOT / Path(*WSGI_MODULE.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert WSGI_ATTRIBUTE in assigned


def test_web_runs_gunicorn_with_the_wsgi_app_on_port_8000():
    web = service("web")
    command = argv(web["command"])
    assert command[0] == "gunicorn"
    assert WSGI_TARGET in command
    assert "0.0.0.0:8000" in command
    assert "8000:8000" in [str(port) for port in web["ports"]]
    assert web["restart"] == "unless-stopped"


def test_web_healthcheck_asks_readyz_with_python_urllib():
    test = argv(service("web")["healthcheck"]["test"])
    assert test[:3] == ["CMD", "python", "-c"], "the slim image has no curl: use python"
    code = test[3]
    compile(code, "<healthcheck>", "exec")
    assert "urllib.request" in code
    assert re.search(r"http://(127\.0\.0\.1|localhost):8000/readyz\b", code)


def test_migrate_runs_mes_db_upgrade_once(monkeypatch):
    migrate = service("migrate")
    assert argv(migrate["command"]) == ["mes", "db", "upgrade"]
    assert str(migrate["restart"]) == "no"

    from platform_core.commands import db_group

    assert db_group.name == "db"
    assert "db" in mes_commands(monkeypatch)
    assert "upgrade" in db_group.commands


def test_worker_runs_mes_worker(monkeypatch):
    assert "worker" in mes_commands(monkeypatch)
    assert argv(service("worker")["command"]) == ["mes", "worker"]


def test_worker_subscribes_to_the_stack_broker_once_it_is_healthy():
    worker = service("worker")
    env = environment(worker)
    assert env["MES_EQUIPMENT_MQTT_ENABLED"] == "true"
    assert env["MES_EQUIPMENT_MQTT_HOST"] == "mqtt"
    assert depends_on(worker)["mqtt"] == "service_healthy"


def test_app_services_share_one_image_built_from_the_dockerfile():
    services = compose()["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        build = services[name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


def test_dependencies_wait_for_a_healthy_database_and_a_finished_migration():
    services = compose()["services"]
    assert depends_on(services["migrate"]) == {"db": "service_healthy"}
    assert depends_on(services["web"]) == {"db": "service_healthy", "migrate": "service_completed_successfully"}
    assert depends_on(services["worker"])["migrate"] == "service_completed_successfully"
    assert "pg_isready" in " ".join(argv(services["db"]["healthcheck"]["test"]))


def test_bind_mounted_files_exist_in_the_repository():
    for name, definition in compose()["services"].items():
        for volume in definition.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} is missing"


def test_mosquitto_config_listens_on_1883_with_persistence():
    lines = {
        line.strip() for line in (ROOT / "deploy/mosquitto/mosquitto.conf").read_text(encoding="utf-8").splitlines()
    }
    assert "listener 1883" in lines
    assert "persistence true" in lines
    assert "allow_anonymous false" in lines


def _connack(port: int, credentials: tuple[str, str] | None = None):
    """The broker's answer to a connection (with these credentials, or anonymous)."""
    import secrets
    import threading

    import paho.mqtt.client as paho

    answered, answer = threading.Event(), []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"probe-{secrets.token_hex(4)}")
    if credentials:
        client.username_pw_set(*credentials)
    client.on_connect = lambda _c, _u, _f, reason_code, _p: (answer.append(reason_code), answered.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
        return answer[0]
    finally:
        client.loop_stop()
        client.disconnect()


def test_the_stacks_broker_starts_with_accounts_and_refuses_strangers():
    """The mqtt service's own command and mosquitto.conf, run with this machine's Mosquitto (the image's paths
    mapped to a temporary folder): the first start creates the accounts file with the product's account."""
    import shutil
    import tempfile

    from tests.services import MosquittoBroker, _wait_for_port, free_port
    from tests.support import unavailable

    local = MosquittoBroker(accounts=True)
    if not local.available:
        unavailable("mosquitto, mosquitto_ctrl or the dynamic security plugin not found")
    folder = Path(tempfile.mkdtemp(prefix="mes-test-broker-"))
    os.chmod(folder, 0o755)
    port = free_port()
    paths = {
        "/mosquitto/config/mosquitto.conf": str(folder / "mosquitto.conf"),
        "/mosquitto/data/": f"{folder}/",
        "/usr/lib/mosquitto_dynamic_security.so": local.plugin,
        "listener 1883": f"listener {port} 127.0.0.1",
        "mosquitto -c": f"{local.binary} -c",
        "mosquitto_ctrl": local.ctrl,
    }
    config = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    mqtt = service("mqtt")
    script = argv(mqtt["command"])[-1].replace("$$", "$")  # as Compose hands it to the shell
    for image_path, here in paths.items():
        config, script = config.replace(image_path, here), script.replace(image_path, here)
    if os.geteuid() == 0:  # mosquitto started as root runs as its own user: it must read and write the folder
        shutil.chown(folder, "mosquitto")
    else:
        script = script.replace("chown mosquitto:mosquitto", "true")
    (folder / "mosquitto.conf").write_text(config, encoding="utf-8")
    env = {**os.environ, **environment(mqtt), "MQTT_PASSWORD": "broker-test-password"}
    with open(folder / "log", "wb") as log:
        broker = subprocess.Popen(["sh", "-c", script], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert _wait_for_port(port), (folder / "log").read_text(errors="replace")
        assert (folder / "dynamic-security.json").exists()
        assert _connack(port).is_failure  # anonymous
        assert _connack(port, (env["MQTT_USERNAME"], "wrong")).is_failure
        assert not _connack(port, (env["MQTT_USERNAME"], env["MQTT_PASSWORD"])).is_failure
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_worker_manages_the_broker_accounts_with_the_brokers_own_password():
    worker, mqtt = environment(service("worker")), environment(service("mqtt"))
    assert worker["MES_EQUIPMENT_MQTT_ACCOUNTS"] == "true"
    assert worker["MES_EQUIPMENT_MQTT_USERNAME"] == mqtt["MQTT_USERNAME"]
    assert worker["MES_EQUIPMENT_MQTT_PASSWORD"] == mqtt["MQTT_PASSWORD"] == "${MQTT_PASSWORD:?set MQTT_PASSWORD}"


# --- Configuration -------------------------------------------------------------------------------------------


def test_every_mes_variable_is_a_real_setting():
    from platform_core.config import DefaultConfig
    from platform_core.registry import load_manifests

    settings = {name for name in vars(DefaultConfig) if name.isupper()}
    settings |= {name for manifest in load_manifests(DefaultConfig.INSTALLED_APPS) for name in manifest.settings}
    for name, definition in compose()["services"].items():
        for key in environment(definition):
            if key.startswith("MES_"):
                assert key.removeprefix("MES_") in settings, f"{name}: {key} is not a setting"


def test_app_services_run_in_production_with_a_required_secret_and_postgresql():
    for name in APP_SERVICES:
        env = environment(service(name))
        assert env["MES_ENV"] == "production", name
        # `${VAR:?message}`: Compose refuses to start without the secret instead of running with an empty one
        assert re.fullmatch(r"\$\{MES_SECRET_KEY:\?[^}]+\}", env["MES_SECRET_KEY"]), name
        url = sa.engine.make_url(re.sub(r"\$\{[^}]*\}", "x", env["MES_DATABASE_URL"]))
        assert url.drivername == "postgresql+psycopg", name
        assert url.host == "db", name
        assert url.get_dialect().driver == "psycopg"


# --- Dockerfile ----------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_default_command_serves_the_wsgi_app():
    commands = [rest for keyword, rest in dockerfile_instructions() if keyword in ("CMD", "ENTRYPOINT")]
    assert commands, "the Dockerfile has no CMD"
    command = " ".join(json.loads(commands[-1]) if commands[-1].startswith("[") else shlex.split(commands[-1]))
    assert "gunicorn" in command
    assert WSGI_TARGET in command


def test_dockerfile_installs_editable_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip install --no-cache-dir -e ." in runs
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the Dockerfile has no USER"
    assert users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in instructions


def test_dockerfile_python_satisfies_requires_python():
    from packaging.specifiers import SpecifierSet

    base = next(rest for keyword, rest in dockerfile_instructions() if keyword == "FROM")
    version = re.fullmatch(r"python:(\d+\.\d+)[\w.-]*", base.split()[0])
    assert version, base
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert version.group(1) in SpecifierSet(requires)
