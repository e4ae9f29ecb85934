"""Helpers shared by the browser tests: API calls to the live server, axe, browser errors."""

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from rest_framework.authtoken.models import Token

DOCS = Path(__file__).resolve().parents[2] / "docs"
MAX_PNG_BYTES = 400_000


def screenshot(page, name: str, tmp_path: Path, **options) -> Path:
    """A PNG of the page: into docs/ with UNCONF_SCREENSHOTS=1 (`make screenshots`), else a temp folder."""
    folder = DOCS if os.environ.get("UNCONF_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", **options)
    assert path.stat().st_size < MAX_PNG_BYTES, f"{path.name} is too heavy for the README"
    return path


def call(server, method: str, path: str, body=None, *, attendee: str = "", organizer=None):
    """One API request to the live server, as a phone or an organizer program sends it."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if attendee:
        headers["Authorization"] = f"Attendee {attendee}"
    if organizer is not None:
        headers["Authorization"] = f"Token {Token.objects.get_or_create(user=organizer)[0].key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def serious_accessibility_issues(page) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def watch_errors(page) -> None:
    """Collects what the browser reports as errors (CSP violations, failed loads, exceptions)."""
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
