"""Throwaway PostgreSQL and Mosquitto instances for the test run, on their own loopback ports.

Started only when a test asks for them; stopped at the end of the session. When the binaries are missing the
dependent tests are skipped with the reason (or fail, in strict runs: ``MES_TEST_STRICT=1``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


def terminate(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Ask a child process to stop, and kill it when it does not within ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """``initdb`` + ``pg_ctl`` in a temp folder, as the ``postgres`` user when run as root."""

    def __init__(self, *, durable: bool = False) -> None:
        self.bin = _pg_bin()
        self.dir: Path | None = None
        self.port = 0
        # Fast by default (tests don't survive a machine crash anyway); durable keeps synchronous commits, so a
        # commit acknowledged before a crash of the server is still there after its restart.
        self.durable = durable

    @property
    def available(self) -> bool:
        return self.bin is not None

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root
            command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in command)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="mes-test-pg-"))
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.port = free_port()
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        self._run("pg_ctl", "-D", str(data), "-l", str(self.dir / "log"), "-o", self._options(), "-w", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _options(self) -> str:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        return options

    def crash_and_restart(self, down_seconds: float = 1.0) -> None:
        """Stop the server as a crash would (no shutdown checkpoint, clients cut off), then start it again."""
        data = str(self.dir / "data")
        self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        time.sleep(down_seconds)
        self._run("pg_ctl", "-D", data, "-l", str(self.dir / "log"), "-o", self._options(), "-w", "start")

    def stop(self) -> None:
        if self.dir is None:
            return
        with contextlib.suppress(subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


class MosquittoBroker:
    """``mosquitto -c conf`` on a free loopback port: anonymous, or with ``accounts`` the dynamic security plugin
    as in production, anonymous clients refused and ``ADMIN`` its administrator; with ``persistence`` it keeps
    durable sessions and their queued messages across a restart, as in production."""

    ADMIN = ("mes-admin", "admin-password")

    def __init__(self, accounts: bool = False, persistence: bool = False) -> None:
        self.binary = shutil.which("mosquitto") or next(iter(glob.glob("/usr/sbin/mosquitto")), None)
        self.ctrl = shutil.which("mosquitto_ctrl")
        self.plugin = next(iter(glob.glob("/usr/lib/*/mosquitto_dynamic_security.so")), None)
        self.accounts = accounts
        self.persistence = persistence  # as in production: durable sessions and their queues survive a restart
        self.process: subprocess.Popen | None = None
        self.dir: Path | None = None
        self.port = 0

    @property
    def available(self) -> bool:
        return self.binary is not None and (not self.accounts or (self.ctrl is not None and self.plugin is not None))

    def _settings(self) -> str:
        if not self.accounts:
            return "allow_anonymous true\n"
        security = self.dir / "dynamic-security.json"
        if not security.exists():
            subprocess.run([self.ctrl, "dynsec", "init", str(security), *self.ADMIN], check=True, capture_output=True)
            if os.geteuid() == 0:  # mosquitto started as root runs as its own user and rewrites this file
                shutil.chown(self.dir, "mosquitto")
                shutil.chown(security, "mosquitto")
        return f"allow_anonymous false\nplugin {self.plugin}\nplugin_opt_config_file {security}\n"

    def _persistence(self) -> str:
        if not self.persistence:
            return "persistence false\n"
        if os.geteuid() == 0:  # mosquitto started as root writes its database as its own user
            shutil.chown(self.dir, "mosquitto")
        return f"persistence true\npersistence_location {self.dir}/\n"

    def start(self) -> int:
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="mes-test-mqtt-"))
            os.chmod(self.dir, 0o755)
        self.port = self.port or free_port()
        config = self.dir / "mosquitto.conf"
        config.write_text(f"listener {self.port} 127.0.0.1\n{self._settings()}{self._persistence()}")
        os.chmod(config, 0o644)
        with open(self.dir / "log", "wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([self.binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        if not _wait_for_port(self.port):
            self.stop()
            raise RuntimeError("mosquitto did not start")
        return self.port

    def stop(self, *, keep: bool = False) -> None:
        """Stop the broker; ``keep``: its port and accounts stay for the next :meth:`start` (a restart)."""
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None
        if self.dir is not None and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            self.port = 0
