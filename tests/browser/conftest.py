"""Browser tests: a real Daphne serving the test database, Debian's Chromium via Playwright."""

import pytest

from tests.live import DaphneServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def server(django_db_setup, django_db_blocker):
    """One Daphne for the browser tests; tests use `transactional_db` so it sees their data."""
    with DaphneServer() as daphne:
        yield daphne


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, server):
    """A phone-sized browser context (cookies of its own: one context = one phone)."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=server.url, **{**PHONE, **options})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def desktop(browser, server):
    contexts = []

    def make(width=1280, height=720, **options):
        context = browser.new_context(
            base_url=server.url, viewport={"width": width, "height": height}, **options
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
