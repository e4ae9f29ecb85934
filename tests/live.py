"""Real Daphne processes for tests, started as a user would: `daphne unconf.asgi:application`."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """The database pytest-django created (test_…), for a server in another process."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    # The test's teardown TRUNCATEs every table while the server may still be reading several in
    # one transaction; if they deadlock, the server (quicker to detect it) is the one that yields.
    options = quote("-c timezone=UTC -c deadlock_timeout=50ms")
    return f"postgres://{user}@{host}:{port}/{db['NAME']}?options={options}"


class DaphneServer:
    def __init__(self, *, redis_url: str | None = None, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "UNCONF_JOIN_RATE": "100000",
            "UNCONF_BAD_CODE_RATE": "100000",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.env.pop("REDIS_URL", None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.process: subprocess.Popen | None = None
        self.log_path = Path(f"/tmp/unconf-daphne-{self.port}.log")

    def spawn(self) -> subprocess.Popen:
        """Start Daphne without waiting for it to answer."""
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "unconf.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self.process

    def start(self, timeout: float = 20) -> "DaphneServer":
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"daphne did not answer within {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
