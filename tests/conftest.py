"""Shared fixtures. The database is real PostgreSQL (scripts/test sets DATABASE_URL)."""

import os
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests import factories


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    until the session ends, which async tests collected after it could not start under."""
    browser = [item for item in items if "tests/browser/" in str(item.fspath)]
    for item in browser:
        item.add_marker(pytest.mark.browser)
    items[:] = [item for item in items if item not in browser] + browser


@pytest.fixture(scope="session", autouse=True)
def _flush_retries_a_deadlock():
    """A transactional test ends by TRUNCATEing every table while a live Daphne of the browser
    tests may still be writing (a screen leaving touches screens, then the event). PostgreSQL then
    breaks the deadlock by failing one side; when it picks the flush, run it again."""
    from django.core.management.base import CommandError
    from django.db.utils import OperationalError
    from django.test import TransactionTestCase

    stock = TransactionTestCase._fixture_teardown

    def teardown_retrying_a_deadlock(self):
        for attempt in range(4):
            try:
                return stock(self)
            except CommandError as exc:
                deadlock = isinstance(exc.__cause__, OperationalError) and "deadlock" in str(exc.__cause__)
                if not deadlock or attempt == 3:
                    raise
                time.sleep(0.2)

    TransactionTestCase._fixture_teardown = teardown_retrying_a_deadlock
    yield
    TransactionTestCase._fixture_teardown = stock


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """The vote-integrity guarantees live in PostgreSQL: refuse to prove them on anything else."""
    if os.environ.get("UNCONF_INVARIANT_ON_SQLITE") == "1":
        return  # tests/test_counts_invariant.py runs its machine on the embedded default too
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        assert connection.vendor == "postgresql", "run the tests with scripts/test (PostgreSQL)"


@pytest.fixture(autouse=True)
def _requests_share_the_test_transaction(settings):
    # In-process requests must see the test's uncommitted rows; live Daphne servers keep the default.
    settings.UNCONF_KEEP_DB_CONNECTIONS = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organizer(db):
    return factories.make_organizer()


@pytest.fixture
def org_client(organizer):
    return factories.organizer_client(organizer)


@pytest.fixture
def event(organizer):
    return factories.make_event(organizer)


@pytest.fixture
def anon():
    return APIClient()
