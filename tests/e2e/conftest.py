"""Browser tests: the demo factory served by a live server, driven by Debian's Chromium through Playwright.

No browser is ever downloaded: ``CHROMIUM`` (default ``/usr/bin/chromium``) is launched directly. When it is
missing every test here is skipped, or fails when the run is strict (``MES_TEST_STRICT=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def live_server(_chromium, tmp_path_factory) -> Iterator[str]:
    """The application on a fresh, migrated SQLite database with the demo factory, served on a free local port."""
    from werkzeug.serving import make_server

    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.db import db
    from platform_core.demo import seed_demo

    _compile_translations()
    tmp = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp}/e2e.db", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "LOG_LEVEL": "WARNING"}
    )
    with app.app_context():
        migrations.upgrade(db.engine)
    with app.app_context(), db.unit_of_work() as session:
        seed_demo(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


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
def scheduling_worker(live_server, tmp_path_factory) -> Iterator[None]:
    """A background worker for the live server's queued schedule solves, as ``mes worker`` runs them.

    It runs its own application on the live server's database (the file ``live_server`` created), in a thread that
    claims ``scheduling.solve`` jobs and runs them until the session ends.
    """
    import time

    from platform_core import jobs
    from platform_core.app import create_app

    # live_server's tmp_path_factory.mktemp("e2e"): pytest points "e2ecurrent" at the newest such folder
    database = (tmp_path_factory.getbasetemp() / "e2ecurrent" / "e2e.db").resolve(strict=True)
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{database}", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "LOG_LEVEL": "WARNING"}
    )
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
