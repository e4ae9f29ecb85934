"""Production settings pass Django's deploy checks; health reports what is down."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from django.test import override_settings

from tests.live import ROOT, DaphneServer, free_port

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "k9$Xv!2pQz7#Lm4^Rt8&Wn1*Hy6@Bc3%Ds5(Fg0)Jk2_Pl9+Qa7=Zx4-Cv8~Nb1",
    "DJANGO_DEBUG": "0",
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "unconf.example.org",
}


def manage(*args, env=None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_check_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_rejects_the_development_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


@pytest.mark.django_db
def test_health_check_names_the_channel_layer_when_redis_is_down(anon):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    layers = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [dead_redis]},
        }
    }

    with override_settings(CHANNEL_LAYERS=layers):
        response = anon.get("/healthz")

    assert response.status_code == 503
    assert response.json()["db"] == "ok"
    assert response.json()["channel_layer"].startswith("down")
    assert response["Retry-After"] == "5"


def test_api_answers_503_unavailable_with_retry_after_while_the_database_is_down():
    dead_database = f"postgres://postgres@127.0.0.1:{free_port()}/unconf"
    server = DaphneServer(env={"DATABASE_URL": dead_database})
    server.spawn()
    try:
        response = _get_when_listening(f"{server.url}/api/events/any/proposals")
        health = _get_when_listening(f"{server.url}/healthz")
    finally:
        server.stop()

    assert response.status == 503
    assert json.loads(response.body)["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
    assert health.status == 503
    assert json.loads(health.body)["db"].startswith("down")


def _get_when_listening(url, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return _Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return _Reply(error.code, error.headers, error.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@dataclass
class _Reply:
    status: int
    headers: dict
    body: bytes


SQLITE_VOTES = """
import json
from django.test import Client
from tests import factories
event = factories.make_event(votes_per_attendee=1)
first, second = factories.make_proposals(event, 2)
_, _, token = factories.join(event)
client = Client(HTTP_AUTHORIZATION=f"Attendee {token}")
def put(pid, dots):
    r = client.put(f"/api/events/{event.slug}/votes/{pid}", json.dumps({"dots": dots}), content_type="application/json")
    return [r.status_code, r.json().get("code"), r.json().get("votes")]
print(json.dumps([put(first.pk, 1), put(second.pk, 1), put(first.pk, 0), put(second.pk, 1)]))
"""


def test_the_embedded_sqlite_default_votes_by_the_same_rules(tmp_path):
    """`scripts/run` without DATABASE_URL runs on SQLite, where the vote is set_dots_portable."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}", "DJANGO_ALLOWED_HOSTS": "testserver"}
    migrated = manage("migrate", "--noinput", "-v", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "embedded.sqlite3").stat().st_size > 0

    result = manage("shell", "-c", SQLITE_VOTES, env=env)

    assert result.returncode == 0, result.stderr
    first, over_budget, taken_back, moved = json.loads(result.stdout.strip().splitlines()[-1])
    assert first[0] == 200 and list(first[2].values()) == [1]
    assert over_budget[:2] == [409, "budget_exhausted"]
    assert taken_back == [200, None, {}]
    assert moved[0] == 200 and list(moved[2].values()) == [1]
