"""Hall-sized limits: a whole hall behind one venue address joins, typos never lock it out,
guessing is stopped per address and event, and organizer logins are throttled per username
and address by django-axes, never by attendee traffic. Default settings unless a test says so."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests import factories
from voting.events import services as event_services
from voting.models import Attendee

pytestmark = pytest.mark.django_db

VENUE = "203.0.113.9"  # every phone on the venue Wi-Fi, as the server sees it
ELSEWHERE = "198.51.100.20"
PASSWORD = "correct horse battery"  # factories.make_organizer's


def join(client, event, code):
    return client.post(f"/api/events/{event.slug}/join", {"code": code}, format="json")


def test_a_hall_of_1000_phones_behind_one_address_joins_through_its_typos(event, capsys):
    hall = APIClient(REMOTE_ADDR=VENUE)
    started = time.monotonic()

    statuses = []
    for phone in range(1000):
        if phone % 20 == 0:  # one phone in 20 mistypes the code first: 50 typos
            statuses.append(
                join(
                    hall, event, event.join_code[:-1] + "Z" if event.join_code[-1] != "Z" else "ZZZZZZ"
                ).status_code
            )
        statuses.append(join(hall, event, event.join_code).status_code)

    with capsys.disabled():
        print(f"\n  1,000 joins and 50 typos from one address: {time.monotonic() - started:.1f}s")
    assert statuses.count(201) == 1000
    assert statuses.count(403) == 50
    assert Attendee.objects.filter(event=event).count() == 1000


def test_guessing_is_stopped_per_address_and_event_and_the_projected_code_always_joins(organizer):
    open_event = factories.make_event(organizer)
    badge_event = factories.make_event(organizer, identity_mode="badge")
    (badge,) = event_services.generate_badges(event=badge_event, count=1)
    guesser = APIClient(REMOTE_ADDR=VENUE)

    guesses = [join(guesser, badge_event, f"GUESS{i:09d}").status_code for i in range(101)]
    badge_now = join(guesser, badge_event, badge.code)
    badge_elsewhere = join(APIClient(REMOTE_ADDR=ELSEWHERE), badge_event, badge.code)
    open_guesses = [join(guesser, open_event, f"WRONG{i}").status_code for i in range(101)]
    open_right = join(guesser, open_event, open_event.join_code)

    # The default (100 per 10 minutes) lets a hall's typos through and stops guessing at once.
    assert guesses == [403] * 100 + [429]
    assert badge_now.status_code == 429  # this address, this event: guessing badges is over
    assert badge_elsewhere.status_code == 201
    assert open_guesses == [403] * 100 + [429]  # counted per event: the badge guesses did not count
    assert open_right.status_code == 201


def admin_login(address: str, username: str, password: str):
    return Client(REMOTE_ADDR=address).post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )


def api_login(address: str, username: str, password: str):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/auth/token", {"username": username, "password": password}, format="json"
    )


@pytest.mark.parametrize("login", [admin_login, api_login], ids=["admin", "api"])
def test_logins_are_throttled_per_username_and_address_after_20_wrong_passwords(login):
    boss = factories.make_organizer("boss", staff=True)
    boss.is_superuser = True
    boss.save()
    factories.make_organizer("colleague", staff=True)

    wrong = [login(VENUE, "boss", f"guess-{i}").status_code for i in range(20)]
    right_from_here = login(VENUE, "boss", PASSWORD)
    right_from_elsewhere = login(ELSEWHERE, "boss", PASSWORD)
    colleague_from_here = login(VENUE, "colleague", PASSWORD)

    refused = 200 if login is admin_login else 400  # the login page again / invalid_credentials
    assert wrong == [refused] * 19 + [429]
    assert right_from_here.status_code == 429
    assert int(right_from_here["Retry-After"]) == 15 * 60
    assert right_from_elsewhere.status_code in (200, 302)
    assert colleague_from_here.status_code in (200, 302)
    if login is api_login:
        assert right_from_here.json()["code"] == "rate_limited"
        assert set(right_from_elsewhere.json()) == {"token"}
    else:
        assert right_from_elsewhere["Location"] == "/admin/"


def test_attendee_traffic_never_counts_against_an_organizer_login(event, organizer):
    hall = APIClient(REMOTE_ADDR=VENUE)
    for i in range(150):
        join(hall, event, f"WRONG{i}")
    for _ in range(30):
        join(hall, event, event.join_code)

    token = api_login(VENUE, organizer.username, PASSWORD)
    page = admin_login(VENUE, organizer.username, PASSWORD)

    assert token.status_code == 200
    assert page.status_code == 302
