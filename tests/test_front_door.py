"""The production front door: docker-compose.yml, the Dockerfile and Caddy in front of Daphne.

There is no Docker engine here, so the compose file is read as Docker Compose reads it (YAML,
`<<` merges) and checked for what the deployment relies on; the Caddyfile is checked by
Caddy's own `caddy validate`, and then served by a real Caddy in front of a real Daphne.
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from tests.feed_support import close_sync_thread_connections
from tests.live import ROOT, DaphneServer, free_port

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
needs_caddy = pytest.mark.skipif(
    shutil.which("caddy") is None, reason="caddy is not installed (scripts/test installs Debian's caddy)"
)


def test_every_service_restarts_on_its_own_but_the_one_shot_migration():
    restarts = {name: service.get("restart") for name, service in SERVICES.items()}

    assert restarts == {
        "proxy": "unless-stopped",
        "postgres": "unless-stopped",
        "redis": "unless-stopped",
        "migrate": "no",
        "web": "unless-stopped",
    }


def test_only_the_proxy_is_published_and_it_serves_the_caddyfile():
    published = {name: service.get("ports", []) for name, service in SERVICES.items()}
    proxy = SERVICES["proxy"]

    assert published == {
        "proxy": ["80:80", "443:443", "443:443/udp"],
        "postgres": [],
        "redis": [],
        "migrate": [],
        "web": [],
    }
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["environment"]["UNCONF_UPSTREAM"] == "web:8000"
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_the_app_is_built_once_and_never_pip_installs_when_a_container_starts():
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands = [" ".join(SERVICES[name]["command"]) for name in ("migrate",)] + [dockerfile.splitlines()[-1]]

    assert SERVICES["web"]["build"] == SERVICES["migrate"]["build"] == "."
    assert "RUN pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    assert not any("pip" in command for command in commands)
    assert commands[-1] == 'CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "unconf.asgi:application"]'


def test_the_security_settings_reach_the_app_and_trust_only_the_proxy():
    env = SERVICES["web"]["environment"]
    proxy_address = SERVICES["proxy"]["networks"]["backend"]["ipv4_address"]

    assert env["DJANGO_SECRET_KEY"] == "${DJANGO_SECRET_KEY:?set DJANGO_SECRET_KEY}"
    assert env["DJANGO_ALLOWED_HOSTS"] == "${UNCONF_DOMAIN:?set UNCONF_DOMAIN}"
    assert env["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://${UNCONF_DOMAIN}"
    assert (env["DJANGO_HTTPS"], env["DJANGO_BEHIND_PROXY"], env["DJANGO_DEBUG"]) == ("1", "1", "0")
    assert env["UNCONF_TRUSTED_PROXIES"] == proxy_address
    assert SERVICES["migrate"]["environment"] == env


@pytest.mark.django_db(transaction=True)
@pytest.mark.multiprocess
def test_the_compose_health_check_passes_whatever_the_allowed_hosts():
    check = SERVICES["web"]["healthcheck"]["test"]
    production = {
        "DJANGO_ALLOWED_HOSTS": "unconf.example.org",
        "DJANGO_HTTPS": "1",
        "DJANGO_BEHIND_PROXY": "1",
    }

    with DaphneServer(env=production) as server:
        command = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}") for arg in check[1:]]
        passed = subprocess.run([sys.executable, *command[1:]], capture_output=True, timeout=20)
        try:
            urllib.request.urlopen(f"{server.url}/", timeout=5)
            page_status = 200
        except urllib.error.HTTPError as error:
            page_status = error.code

    assert check[:2] == ["CMD", "python"]
    assert passed.returncode == 0, passed.stderr.decode()
    assert page_status == 400  # any other page still refuses a host that is not ours


@needs_caddy
def test_caddy_accepts_the_caddyfile():
    env = {
        **os.environ,
        "UNCONF_DOMAIN": "unconf.example.org",
        "XDG_DATA_HOME": "/tmp",
        "XDG_CONFIG_HOME": "/tmp",
    }

    checked = subprocess.run(
        ["caddy", "validate", "--adapter", "caddyfile", "--config", str(CADDYFILE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    adapted = subprocess.run(
        ["caddy", "adapt", "--adapter", "caddyfile", "--config", str(CADDYFILE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    server = json.loads(adapted.stdout)["apps"]["http"]["servers"]["srv0"]
    handlers = {h["handler"]: h for h in all_handlers(server["routes"])}

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Valid configuration" in checked.stdout + checked.stderr
    assert server["listen"] == [":443"]  # HTTPS, with Caddy's automatic certificates
    assert (server["read_header_timeout"], server["read_timeout"], server["idle_timeout"]) == (
        10 * 10**9,
        30 * 10**9,
        120 * 10**9,
    )
    assert handlers["request_body"]["max_size"] == 1_000_000
    assert (handlers["static_response"]["status_code"], handlers["static_response"]["close"]) == (413, True)
    assert json.loads(handlers["static_response"]["body"])["code"] == "payload_too_large"
    assert handlers["reverse_proxy"]["upstreams"] == [{"dial": "web:8000"}]
    assert handlers["reverse_proxy"]["headers"]["request"]["set"] == {
        "X-Forwarded-For": ["{http.request.remote.host}"],
        "X-Forwarded-Proto": ["{http.request.scheme}"],
    }


def all_handlers(routes: list) -> list[dict]:
    found = []
    for route in routes:
        for handler in route.get("handle", []):
            found.append(handler)
            found += all_handlers(handler.get("routes", []))
    return found


# --- a real Caddy in front of a real Daphne --------------------------------------------------------


class CaddyProxy:
    """deploy/Caddyfile as it is, served for `localhost` on free ports, certificates from Caddy's
    own local authority (kept in a temporary folder, never installed into the system)."""

    def __init__(self, upstream: DaphneServer, tmp_path):
        self.https_port, self.http_port = free_port(), free_port()
        self.url = f"https://localhost:{self.https_port}"
        config = CADDYFILE.read_text().replace(
            "{\n",
            f"{{\n\tskip_install_trust\n\tadmin off\n\thttp_port {self.http_port}\n\thttps_port {self.https_port}\n",
            1,
        )
        self.config = tmp_path / "Caddyfile"
        self.config.write_text(config)
        self.env = {
            **os.environ,
            "UNCONF_DOMAIN": "localhost",
            "UNCONF_UPSTREAM": f"127.0.0.1:{upstream.port}",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "HOME": str(tmp_path),
        }
        self.log = tmp_path / "caddy.log"

    def __enter__(self):
        self.process = subprocess.Popen(
            ["caddy", "run", "--adapter", "caddyfile", "--config", str(self.config)],
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"caddy did not answer:\n{self.log.read_text()}")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)

    @staticmethod
    def tls() -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # Caddy's local CA
        return context

    def get(self, path: str, method="GET", body=None, headers=None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.tls()) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@pytest.fixture
def front_door(tmp_path, django_db_setup, django_db_blocker):
    env = {
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DJANGO_HTTPS": "1",
        "DJANGO_BEHIND_PROXY": "1",
        "UNCONF_TRUSTED_PROXIES": "127.0.0.1",
        "UNCONF_JOIN_RATE": "2",
    }
    with DaphneServer(env=env) as daphne, CaddyProxy(daphne, tmp_path) as caddy:
        yield caddy


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


@needs_caddy
@pytest.mark.multiprocess
@pytest.mark.django_db(transaction=True)
async def test_through_caddy_over_https_the_app_and_the_feed_work_and_forwarded_headers_are_the_proxys(
    front_door, event
):
    join = f"/api/events/{event.slug}/join"
    body = json.dumps({"code": event.join_code}).encode()
    spoofed = [
        {
            "Content-Type": "application/json",
            "X-Forwarded-For": f"198.51.100.{i}",
            "X-Forwarded-Proto": "http",
        }
        for i in range(3)
    ]

    page = await sync_to_async(front_door.get)("/")
    joins = [(await sync_to_async(front_door.get)(join, "POST", body, headers))[0] for headers in spoofed]
    async with connect(
        f"wss://localhost:{front_door.https_port}/ws/events/{event.slug}/",
        origin=front_door.url,
        ssl=front_door.tls(),
        proxy=None,
    ) as feed:
        snapshot = json.loads(await feed.recv())
    too_large = await sync_to_async(raw_https_headers_only)(
        front_door.https_port, f"POST {join} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 209715200\r\n\r\n"
    )

    # The app saw HTTPS (no redirect to it, HSTS sent) although the client said http.
    assert page[0] == 200
    assert page[1]["Strict-Transport-Security"].startswith("max-age=")
    # Each client-made X-Forwarded-For was replaced: one address, limited to 2 joins.
    assert joins == [201, 201, 429]
    assert snapshot["type"] == "snapshot"
    assert too_large.startswith(b"HTTP/1.1 413")


def raw_https_headers_only(port: int, head: str) -> bytes:
    """Send headers only, no body: what comes back within 5 s."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as plain,
        CaddyProxy.tls().wrap_socket(plain, server_hostname="localhost") as sock,
    ):
        sock.sendall(head.encode())
        try:
            return sock.recv(65536)
        except TimeoutError:
            return b""
