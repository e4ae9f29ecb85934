"""The organizer console, the badge sheet, the stage's QR code and the co-organizers API."""

import base64
import io
import re

import pytest
import zxingcpp
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from tests import factories
from voting.events import services as event_services

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def decode_qr(png: bytes) -> str:
    image = Image.open(io.BytesIO(png)).convert("L")
    # Small module sizes decode more reliably when scaled up without smoothing.
    image = image.resize((image.width * 4, image.height * 4), Image.NEAREST)
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return results[0].text


def stage_qr_png(html: str) -> bytes:
    match = re.search(r'id="join-qr" src="data:image/png;base64,([^"]+)"', html)
    assert match, "the stage has no inline QR code"
    return base64.b64decode(match.group(1))


# --- who may open the pages ------------------------------------------------------------------

CONSOLE_PAGES = ["/e/{slug}/organize/", "/e/{slug}/organize/badges/"]


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_console_pages_send_anonymous_visitors_to_the_login_page(event, page):
    path = page.format(slug=event.slug)

    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_console_pages_refuse_a_signed_in_non_organizer_with_a_page_that_says_why(event, page):
    stranger = factories.make_organizer("stranger")

    response = signed_in(stranger).get(page.format(slug=event.slug))

    assert response.status_code == 403
    text = response.content.decode()
    assert "You don’t organize this event" in text
    assert "<strong>stranger</strong>" in text


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_console_pages_open_for_the_event_organizers(event, organizer, page):
    response = signed_in(organizer).get(page.format(slug=event.slug))

    assert response.status_code == 200


def test_console_opens_for_a_superuser_who_is_not_listed(event):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", "root@example.org", "correct horse battery")

    response = signed_in(root).get(f"/e/{event.slug}/organize/")

    assert response.status_code == 200


def test_console_sets_the_csrf_cookie_its_api_calls_need(event, organizer):
    response = signed_in(organizer).get(f"/e/{event.slug}/organize/")

    assert response.cookies["csrftoken"].value != ""


def test_console_hands_its_script_the_event_with_the_join_code(event, organizer):
    response = signed_in(organizer).get(f"/e/{event.slug}/organize/")

    page_data = response.context["page_data"]
    assert page_data["slug"] == event.slug
    assert page_data["event"]["join_code"] == event.join_code
    assert page_data["join_url"] == f"http://testserver/e/{event.slug}/join?code={event.join_code}"


def test_console_escapes_the_event_name(organizer):
    event = factories.make_event(organizer, name="<img src=x onerror=alert(1)>")

    response = signed_in(organizer).get(f"/e/{event.slug}/organize/")

    text = response.content.decode()
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_console_shows_the_rounds_the_current_one_in_the_phase_card(event, organizer):
    from voting.events import rounds

    second = rounds.create_round(event=event, name="Afternoon")
    rounds.start_round(event=event, round_id=second.pk)
    later = rounds.create_round(event=event, name="Day 2")

    response = signed_in(organizer).get(f"/e/{event.slug}/organize/")

    text = response.content.decode()
    assert re.search(r'id="round-now">Afternoon</bdi>', text)
    assert 'id="round-prepare"' in text
    assert [r["name"] for r in response.context["page_data"]["rounds"]] == ["Round 1", "Afternoon", "Day 2"]
    assert response.context["page_data"]["rounds"][2] == {"id": later.pk, "name": "Day 2", "started_at": None}
    # The downloads' round picker offers the started rounds only, the current one chosen.
    picker = re.search(r'<select id="export-round">(.*?)</select>', text, re.S).group(1)
    assert re.findall(r">([^<]+)</option>", picker) == ["Round 1", "Afternoon"]
    assert f'value="{second.pk}" selected' in picker


def test_console_escapes_round_names(event, organizer):
    from voting.events import rounds

    hostile = "<script>alert(1)</script>"
    rounds.start_round(event=event, round_id=rounds.create_round(event=event, name=hostile).pk)

    response = signed_in(organizer).get(f"/e/{event.slug}/organize/")

    text = response.content.decode()
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_events_page_sends_anonymous_visitors_to_the_login_page():
    response = Client().get("/organize/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/organize/"


def test_events_page_refuses_accounts_that_may_not_create_events(db):
    plain = factories.make_organizer("plain", staff=False)

    response = signed_in(plain).get("/organize/")

    assert response.status_code == 403
    assert "Only staff can organize events" in response.content.decode()


def test_events_page_lists_only_the_events_the_user_organizes(organizer):
    mine = factories.make_event(organizer, name="Mine")
    factories.make_event(factories.make_organizer(), name="Somebody else's")

    response = signed_in(organizer).get("/organize/")

    assert response.status_code == 200
    assert [e.slug for e in response.context["events"]] == [mine.slug]


# --- badge sheet -----------------------------------------------------------------------------


def test_badge_sheet_prints_one_label_per_badge_that_still_works(event, organizer):
    badges = event_services.generate_badges(event=event, count=3)
    event_services.revoke_badge(event=event, code=badges[0].code)

    response = signed_in(organizer).get(f"/e/{event.slug}/organize/badges/")

    codes = re.findall(r'class="label" data-code="([A-Z0-9]+)"', response.content.decode())
    assert codes == [badges[1].code, badges[2].code]


def test_badge_sheet_prints_a_single_reissued_badge(event, organizer):
    old = event_services.generate_badges(event=event, count=2)[0]
    new = event_services.reissue_badge(event=event, code=old.code)

    response = signed_in(organizer).get(f"/e/{event.slug}/organize/badges/?code={new.code.lower()}")

    codes = re.findall(r'class="label" data-code="([A-Z0-9]+)"', response.content.decode())
    assert codes == [new.code]


def test_badge_sheet_splits_labels_into_pages_of_the_chosen_layout(event, organizer):
    event_services.generate_badges(event=event, count=25)

    a4 = signed_in(organizer).get(f"/e/{event.slug}/organize/badges/?layout=a4")
    letter = signed_in(organizer).get(f"/e/{event.slug}/organize/badges/?layout=letter")

    assert [len(page) for page in a4.context["pages"]] == [24, 1]
    assert [len(page) for page in letter.context["pages"]] == [10, 10, 5]


# --- the stage and its QR code --------------------------------------------------------------


def test_stage_is_public_and_its_qr_code_opens_the_join_url_with_the_event_code(event):
    response = Client().get(f"/e/{event.slug}/stage/")

    assert response.status_code == 200
    url = decode_qr(stage_qr_png(response.content.decode()))
    assert url == f"http://testserver/e/{event.slug}/join?code={event.join_code}"


def test_stage_qr_code_uses_the_host_the_projector_opened(event):
    response = Client(HTTP_HOST="localhost").get(f"/e/{event.slug}/stage/")

    url = decode_qr(stage_qr_png(response.content.decode()))
    assert url == f"http://localhost/e/{event.slug}/join?code={event.join_code}"


def test_stage_shows_the_short_address_and_the_event_code(event):
    response = Client().get(f"/e/{event.slug}/stage/")

    text = response.content.decode()
    assert '<p class="join-host" id="join-host">testserver</p>' in text
    assert f'<p class="join-code" id="join-code">{event.join_code}</p>' in text


def test_stage_of_a_badge_event_sends_people_to_their_badge_code(organizer):
    event = factories.make_event(organizer, identity_mode="badge")

    response = Client().get(f"/e/{event.slug}/stage/")

    text = response.content.decode()
    assert decode_qr(stage_qr_png(text)) == f"http://testserver/e/{event.slug}/join"
    assert event.join_code not in text
    assert "Scan the QR code on your badge" in text


def test_join_qr_downloads_as_png_and_svg(event):
    png = Client().get(f"/e/{event.slug}/join-qr.png")
    svg = Client().get(f"/e/{event.slug}/join-qr.svg")

    assert png["Content-Type"] == "image/png"
    assert decode_qr(png.content) == f"http://testserver/e/{event.slug}/join?code={event.join_code}"
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg") or svg.content.startswith(b"<?xml")


def test_join_qr_in_an_unknown_format_is_not_found(event):
    response = Client().get(f"/e/{event.slug}/join-qr.gif")

    assert response.status_code == 404


# --- co-organizers API -------------------------------------------------------------------------


def organizers_url(event) -> str:
    return f"/api/events/{event.slug}/organizers"


def test_organizers_are_listed_for_organizers(event, org_client, organizer):
    response = org_client.get(organizers_url(event))

    assert response.status_code == 200
    assert response.json() == [{"username": organizer.username, "name": "", "is_staff": True}]


def test_adding_a_co_organizer_opens_the_console_to_them(event, org_client, organizer):
    helper = factories.make_organizer("helper")

    response = org_client.post(organizers_url(event), {"username": "helper"}, format="json")

    assert response.status_code == 201
    assert [p["username"] for p in response.json()] == sorted([organizer.username, "helper"])
    assert signed_in(helper).get(f"/e/{event.slug}/organize/").status_code == 200


def test_adding_someone_who_already_organizes_changes_nothing(event, org_client, organizer):
    response = org_client.post(organizers_url(event), {"username": organizer.username}, format="json")

    assert response.status_code == 200
    assert [p["username"] for p in response.json()] == [organizer.username]


def test_adding_an_unknown_username_says_so(event, org_client):
    response = org_client.post(organizers_url(event), {"username": "nobody"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no active user named “nobody”.", "code": "not_found"}


def test_the_listing_says_when_a_co_organizer_cannot_sign_in_to_the_console(event, org_client):
    factories.make_organizer("api-only", staff=False)

    response = org_client.post(organizers_url(event), {"username": "api-only"}, format="json")

    assert {"username": "api-only", "name": "", "is_staff": False} in response.json()


def test_removing_a_co_organizer_closes_the_console_to_them(event, org_client, organizer):
    helper = factories.make_organizer("helper")
    event.organizers.add(helper)

    response = org_client.delete(organizers_url(event), {"username": "helper"}, format="json")

    assert response.status_code == 200
    assert [p["username"] for p in response.json()] == [organizer.username]
    assert signed_in(helper).get(f"/e/{event.slug}/organize/").status_code == 403


def test_the_last_organizer_cannot_be_removed(event, org_client, organizer):
    response = org_client.delete(organizers_url(event), {"username": organizer.username}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert list(event.organizers.all()) == [organizer]


def test_removing_someone_who_does_not_organize_is_not_found(event, org_client):
    factories.make_organizer("bystander")

    response = org_client.delete(organizers_url(event), {"username": "bystander"}, format="json")

    assert response.status_code == 404


def _anonymous(event):
    return APIClient()


def _attendee(event):
    return factories.join(event)[1]


def _other_event_organizer(event):
    other = factories.make_organizer("elsewhere")
    factories.make_event(other)
    return factories.organizer_client(other)


def _staff_non_organizer(event):
    return factories.organizer_client(factories.make_organizer("staffer"))


@pytest.mark.parametrize("caller", [_anonymous, _attendee, _other_event_organizer, _staff_non_organizer])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_organizers_api_refuses_anyone_who_does_not_organize_the_event(event, organizer, caller, method):
    factories.make_organizer("intruder")
    client = caller(event)

    response = getattr(client, method)(organizers_url(event), {"username": "intruder"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert list(event.organizers.all()) == [organizer]


def test_organizers_api_from_the_console_session_needs_the_csrf_token(event, organizer):
    factories.make_organizer("helper")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(organizer)

    refused = client.post(organizers_url(event), {"username": "helper"}, format="json")
    token = signed_in(organizer).get(f"/e/{event.slug}/organize/").cookies["csrftoken"].value
    client.cookies["csrftoken"] = token
    accepted = client.post(
        organizers_url(event), {"username": "helper"}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert accepted.status_code == 201
