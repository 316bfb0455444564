"""Browser tests: the demo factory served by a live server, driven by Debian's Chromium through Playwright.

No browser is ever downloaded: ``CHROMIUM`` (default ``/usr/bin/chromium``) is launched directly. When it is
missing every test here is skipped, or fails when the run is strict (``MES_TEST_STRICT=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.support import unavailable

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "e2e"
TRANSLATIONS = REPO / "platform_core" / "translations"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1024, "height": 768}  # a landscape shop-floor tablet


def _require_chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(
            f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install chromium) "
            "or point the CHROMIUM environment variable at a Chromium binary"
        )
    return CHROMIUM


@pytest.fixture(scope="session", autouse=True)
def _chromium() -> str:
    """Checked before the live server starts and before Playwright tries to launch anything."""
    return _require_chromium()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": _require_chromium(), "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {
        **browser_context_args,
        "base_url": live_server,
        "viewport": VIEWPORT,
        "has_touch": True,
        "locale": "en-US",  # the sign-in page follows Accept-Language; tests switch to Chinese explicitly
    }


def _compile_translations() -> None:
    """Compile the message catalogs when a .mo is missing or older than its .po (the .mo files are not tracked)."""
    stale = [
        po
        for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").exists() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(TRANSLATIONS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"compiling the message catalogs failed:\n{result.stderr}", pytrace=False)


@dataclass(frozen=True)
class DemoServer:
    url: str
    database: Path


def _demo_app(database: Path):
    from platform_core.app import create_app

    return create_app(
        {"DATABASE_URL": f"sqlite:///{database}", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "LOG_LEVEL": "WARNING"}
    )


@contextmanager
def serve_demo(folder: Path, prepare: Callable[[Session], None] | None = None) -> Iterator[DemoServer]:
    """The application on a fresh, migrated SQLite database in ``folder`` with the demo factory (then
    ``prepare(session)`` in the factory, when given), served on a free local port."""
    from werkzeug.serving import make_server

    from platform_core import migrations
    from platform_core.db import db
    from platform_core.demo import seed_demo

    _compile_translations()
    database = folder / "e2e.db"
    app = _demo_app(database)
    with app.app_context():
        migrations.upgrade(db.engine)
    with app.app_context(), db.unit_of_work() as session:
        tenant_id = seed_demo(session).id
    if prepare is not None:
        with app.app_context(), db.unit_of_work(tenant_id) as session:
            prepare(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield DemoServer(f"http://127.0.0.1:{server.server_port}", database)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["mes.engine"].dispose()


@contextmanager
def solving(database: Path) -> Iterator[None]:
    """A background worker for a live server's queued schedule solves, as ``mes worker`` runs them: a thread with
    its own application on the server's database that claims ``scheduling.solve`` jobs and runs them."""
    import time

    from platform_core import jobs

    app = _demo_app(database)
    stop = threading.Event()

    def work() -> None:
        with app.app_context():
            while not stop.is_set():
                claimed = jobs.claim("e2e-worker", {"scheduling.solve"})
                if claimed is None:
                    time.sleep(0.3)
                    continue
                jobs.run(app, claimed, "e2e-worker")

    thread = threading.Thread(target=work, name="e2e-scheduling-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
        app.extensions["mes.engine"].dispose()


@pytest.fixture(scope="session")
def demo(_chromium, tmp_path_factory) -> Iterator[DemoServer]:
    """The demo factory most browser tests share."""
    with serve_demo(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture(scope="session")
def live_server(demo) -> str:
    return demo.url


@pytest.fixture(autouse=True)
def _watch_page(request) -> Iterator[None]:
    """Around every browser test: no server error, no script error, and a screenshot of where the test ended.

    The full-page screenshot (taken whether the test passed or failed) goes to test-artifacts/e2e/<test>.png.
    """
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    problems: list[str] = []

    def on_response(response) -> None:
        if response.status >= 500:
            problems.append(f"server error {response.status} for {response.request.method} {response.url}")

    def on_console(message) -> None:
        # a 404 page logs "Failed to load resource"; anything else (a script error, a blocked inline script) counts
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error on {page.url}: {message.text}")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error on {page.url}: {error}"))
    yield
    if not page.is_closed():
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    if problems:
        pytest.fail("the browser saw problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def scheduling_worker(demo) -> Iterator[None]:
    """Queued schedule solves of the shared demo server are run as ``mes worker`` would run them."""
    with solving(demo.database):
        yield
