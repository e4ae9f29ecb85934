"""Shared fixtures. The database is real PostgreSQL (scripts/test sets DATABASE_URL)."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests import factories


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """The vote-integrity guarantees live in PostgreSQL: refuse to prove them on anything else."""
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        assert connection.vendor == "postgresql", "run the tests with scripts/test (PostgreSQL)"


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
