import pytest

pytestmark = pytest.mark.django_db


def test_health_check_reports_database_and_channel_layer(anon):
    response = anon.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"db": "ok", "channel_layer": "ok"}
