"""Joining, attendee tokens and cookies, badges, organizer tokens and rate limits."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests import factories
from voting.events import services as event_services
from voting.events.identity import ATTENDEE_COOKIE
from voting.models import Attendee, Vote

pytestmark = pytest.mark.django_db


def test_joining_an_open_event_returns_a_token_a_pseudonym_and_an_httponly_cookie(event, anon):
    response = anon.post(f"/api/events/{event.slug}/join", {"code": event.join_code.lower()}, format="json")

    body = response.json()
    attendee = Attendee.objects.get()
    assert response.status_code == 201
    assert body["attendee"] == {"id": attendee.public_id, "display_name": ""}
    assert body["attendee"]["id"] != str(attendee.pk)
    assert attendee.token_hash != body["token"]  # only a hash is stored
    cookie = response.cookies[ATTENDEE_COOKIE]
    assert cookie.value == body["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_a_wrong_code_is_refused_with_invalid_code(event, anon):
    response = anon.post(f"/api/events/{event.slug}/join", {"code": "NOPE12"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_code"
    assert Attendee.objects.count() == 0


@override_settings(UNCONF_BAD_CODE_RATE=3)
def test_guessing_codes_is_rate_limited_with_retry_after_yet_the_projected_code_still_joins(event, anon):
    statuses = [
        anon.post(f"/api/events/{event.slug}/join", {"code": f"WRONG{i}"}, format="json").status_code
        for i in range(4)
    ]
    wrong_again = anon.post(f"/api/events/{event.slug}/join", {"code": "WRONG9"}, format="json")
    right = anon.post(f"/api/events/{event.slug}/join", {"code": event.join_code}, format="json")

    assert statuses == [403, 403, 403, 429]
    assert wrong_again.status_code == 429
    assert wrong_again.json()["code"] == "rate_limited"
    assert int(wrong_again["Retry-After"]) > 0
    assert right.status_code == 201


@override_settings(UNCONF_JOIN_RATE=2)
def test_new_attendees_per_address_are_rate_limited(event, anon):
    statuses = [
        anon.post(f"/api/events/{event.slug}/join", {"code": event.join_code}, format="json").status_code
        for _ in range(3)
    ]

    assert statuses == [201, 201, 429]


@override_settings(UNCONF_JOIN_RATE=1, UNCONF_TRUSTED_PROXIES=["10.0.0.1"])
def test_forwarded_for_counts_only_from_a_trusted_proxy(event):
    via_proxy = APIClient(REMOTE_ADDR="10.0.0.1")
    direct = APIClient(REMOTE_ADDR="192.0.2.7")
    url = f"/api/events/{event.slug}/join"
    code = {"code": event.join_code}

    first = via_proxy.post(url, code, format="json", HTTP_X_FORWARDED_FOR="198.51.100.1")
    second_person = via_proxy.post(url, code, format="json", HTTP_X_FORWARDED_FOR="198.51.100.2")
    spoofer = direct.post(url, code, format="json", HTTP_X_FORWARDED_FOR="198.51.100.3")
    spoofer_again = direct.post(url, code, format="json", HTTP_X_FORWARDED_FOR="198.51.100.4")

    assert [r.status_code for r in (first, second_person, spoofer, spoofer_again)] == [201, 201, 201, 429]


def test_cookie_authenticated_votes_need_the_csrf_header(event):
    [proposal] = factories.make_proposals(event, 1)
    browser = APIClient(enforce_csrf_checks=True)
    browser.post(f"/api/events/{event.slug}/join", {"code": event.join_code}, format="json")
    url = f"/api/events/{event.slug}/votes/{proposal.pk}"

    without = browser.put(url, {"dots": 1}, format="json")
    browser.get("/admin/login/")  # a page with a form sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    with_header = browser.put(url, {"dots": 1}, format="json", HTTP_X_CSRFTOKEN=token)

    assert (without.status_code, without.json()["code"]) == (403, "forbidden")
    assert with_header.status_code == 200


def test_header_authenticated_calls_need_no_csrf(event):
    [proposal] = factories.make_proposals(event, 1)
    _, token = event_services.join_event(event=event, code=event.join_code)
    program = APIClient(enforce_csrf_checks=True)
    program.credentials(HTTP_AUTHORIZATION=f"Attendee {token}")

    response = program.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

    assert response.status_code == 200


def test_me_without_joining_is_not_joined(event, anon):
    response = anon.get(f"/api/events/{event.slug}/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_joined"


def test_an_attendee_token_is_only_valid_for_its_own_event(event):
    other = factories.make_event()
    _, client, _ = factories.join(other)

    response = client.get(f"/api/events/{event.slug}/me")

    assert (response.status_code, response.json()["code"]) == (401, "not_joined")


def test_organizer_token_from_username_and_password(organizer, anon):
    ok = anon.post("/api/auth/token", {"username": organizer.username, "password": "correct horse battery"})
    wrong = anon.post("/api/auth/token", {"username": organizer.username, "password": "nope"})

    assert ok.status_code == 200
    assert set(ok.json()) == {"token"}
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")


class TestBadges:
    @pytest.fixture
    def badge_event(self, organizer):
        return factories.make_event(organizer, identity_mode="badge")

    def test_organizers_generate_single_use_badge_codes_with_sixty_bits(self, badge_event, org_client):
        response = org_client.post(f"/api/events/{badge_event.slug}/badges", {"count": 3}, format="json")

        badges = response.json()
        assert response.status_code == 201
        assert [b["status"] for b in badges] == ["unused"] * 3
        assert len({b["code"] for b in badges}) == 3
        assert all(len(b["code"]) * 5 >= 60 for b in badges)  # 32-symbol alphabet: 5 bits each
        assert len({b["attendee_id"] for b in badges}) == 3

    def test_event_code_does_not_admit_to_a_badge_event(self, badge_event, anon):
        response = anon.post(
            f"/api/events/{badge_event.slug}/join", {"code": badge_event.join_code}, format="json"
        )

        assert (response.status_code, response.json()["code"]) == (403, "invalid_code")

    def test_redeeming_again_moves_the_same_attendee_and_signs_out_the_old_device(self, badge_event):
        [proposal] = factories.make_proposals(badge_event, 1)
        [badge] = event_services.generate_badges(event=badge_event, count=1)
        old_phone, new_phone = APIClient(), APIClient()
        first = old_phone.post(f"/api/events/{badge_event.slug}/join", {"code": badge.code}, format="json")
        old_phone.credentials(HTTP_AUTHORIZATION=f"Attendee {first.json()['token']}")
        old_phone.put(f"/api/events/{badge_event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

        second = new_phone.post(f"/api/events/{badge_event.slug}/join", {"code": badge.code}, format="json")
        new_phone.credentials(HTTP_AUTHORIZATION=f"Attendee {second.json()['token']}")

        assert second.json()["attendee"]["id"] == first.json()["attendee"]["id"]
        assert new_phone.get(f"/api/events/{badge_event.slug}/me").json()["votes"] == {str(proposal.pk): 1}
        assert old_phone.get(f"/api/events/{badge_event.slug}/me").status_code == 401

    def test_revoke_signs_out_and_reissue_gives_the_same_attendee_a_new_code(self, badge_event, org_client):
        [proposal] = factories.make_proposals(badge_event, 1)
        [badge] = event_services.generate_badges(event=badge_event, count=1)
        phone = APIClient()
        joined = phone.post(
            f"/api/events/{badge_event.slug}/join", {"code": badge.code}, format="json"
        ).json()
        phone.credentials(HTTP_AUTHORIZATION=f"Attendee {joined['token']}")
        phone.put(f"/api/events/{badge_event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

        revoked = org_client.post(f"/api/events/{badge_event.slug}/badges/{badge.code}/revoke")
        signed_out = phone.get(f"/api/events/{badge_event.slug}/me")
        reuse = APIClient().post(f"/api/events/{badge_event.slug}/join", {"code": badge.code}, format="json")
        reissued = org_client.post(f"/api/events/{badge_event.slug}/badges/{badge.code}/reissue")
        new_phone = APIClient()
        rejoined = new_phone.post(
            f"/api/events/{badge_event.slug}/join", {"code": reissued.json()["code"]}, format="json"
        ).json()
        new_phone.credentials(HTTP_AUTHORIZATION=f"Attendee {rejoined['token']}")

        assert revoked.json()["status"] == "revoked"
        assert signed_out.status_code == 401
        assert (reuse.status_code, reuse.json()["code"]) == (403, "invalid_code")
        assert reissued.status_code == 201
        assert reissued.json()["attendee_id"] == joined["attendee"]["id"]
        assert rejoined["attendee"]["id"] == joined["attendee"]["id"]
        assert new_phone.get(f"/api/events/{badge_event.slug}/me").json()["votes"] == {str(proposal.pk): 1}
        assert Vote.objects.count() == 1

    def test_badge_csv_lists_codes_and_join_links(self, badge_event, org_client):
        badges = event_services.generate_badges(event=badge_event, count=2)

        response = org_client.get(f"/api/events/{badge_event.slug}/badges.csv")

        lines = response.content.decode().splitlines()
        assert response["Content-Type"].startswith("text/csv")
        assert lines[0] == "code,attendee_id,status,join_url"
        assert [line.split(",")[0] for line in lines[1:]] == [b.code for b in badges]
        assert lines[1].endswith(f"/e/{badge_event.slug}/join?code={badges[0].code}")


def test_joining_still_works_when_the_rate_limit_cache_is_down(event, anon):
    from tests.live import free_port

    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    with override_settings(CACHES=dead):
        response = anon.post(f"/api/events/{event.slug}/join", {"code": event.join_code}, format="json")

    assert response.status_code == 201
