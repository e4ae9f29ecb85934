"""The attendee pages without a browser: joining, redirects, refusals, escaping, CSP, weight."""

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests import factories
from voting.events import services as event_services
from voting.events.identity import ATTENDEE_COOKIE
from voting.events.pages import PHONE_STRINGS
from voting.models import Attendee, Room, ScheduledSession, Slot
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parent.parent / "voting" / "static" / "voting"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def joined_client(event) -> Client:
    client = Client()
    response = client.get(f"/e/{event.slug}/join", {"code": event.join_code})
    assert response.status_code == 302
    return client


# --- home -------------------------------------------------------------------------------------


def test_home_asks_for_an_event_code_under_a_strict_csp(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b'name="code"' in response.content
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_home_sends_a_typed_event_code_to_its_join_link(client, event):
    typed = event.join_code.lower()[:3] + "-" + event.join_code.lower()[3:]

    response = client.get("/", {"code": typed})

    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/join?code={event.join_code}"


def test_home_accepts_a_badge_code_too(client, organizer):
    event = factories.make_event(organizer, identity_mode="badge")
    (badge,) = event_services.generate_badges(event=event, count=1)

    response = client.get("/", {"code": badge.code.lower()})

    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/join?code={badge.code}"


def test_home_says_clearly_when_no_event_has_the_code(client, event):
    response = client.get("/", {"code": "NOPE99"})

    assert response.status_code == 400
    assert "No event has that code. Check the code on the screen and try again." in response.content.decode()


@override_settings(UNCONF_BAD_CODE_RATE=2)
def test_home_limits_guessing_codes(client, event):
    statuses = [client.get("/", {"code": f"WRONG{i}"}).status_code for i in range(3)]
    right = client.get("/", {"code": event.join_code})

    assert statuses == [400, 400, 429]
    assert "Too many wrong codes" in client.get("/", {"code": "WRONG9"}).content.decode()
    # The projected code of an open event is never refused for earlier wrong ones.
    assert right.status_code == 302


# --- join -------------------------------------------------------------------------------------


def test_the_qr_link_joins_an_open_event_sets_the_cookie_and_opens_the_event(client, event):
    response = client.get(f"/e/{event.slug}/join", {"code": event.join_code})

    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/"
    cookie = response.cookies[ATTENDEE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert Attendee.objects.filter(event=event).count() == 1
    assert client.get(f"/e/{event.slug}/").status_code == 200


def test_scanning_the_qr_code_again_keeps_the_same_attendee(event):
    client = joined_client(event)

    response = client.get(f"/e/{event.slug}/join", {"code": event.join_code})

    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/"
    assert Attendee.objects.filter(event=event).count() == 1


def test_a_wrong_code_shows_the_message_with_403_and_no_cookie(client, event):
    response = client.get(f"/e/{event.slug}/join", {"code": "WRONG1"})

    assert response.status_code == 403
    assert (
        "That code is not valid for this event. Check the code on the screen and try again."
        in response.content.decode()
    )
    assert ATTENDEE_COOKIE not in response.cookies
    assert Attendee.objects.count() == 0


def test_the_join_form_takes_an_optional_display_name(client, event):
    response = client.post(f"/e/{event.slug}/join", {"code": event.join_code, "display_name": "  Ada  "})

    assert response.status_code == 302
    assert list(Attendee.objects.values_list("display_name", flat=True)) == ["Ada"]


def test_a_badge_event_asks_for_the_badge_code_when_the_projected_code_is_scanned(client, organizer):
    event = factories.make_event(organizer, identity_mode="badge")

    response = client.get(f"/e/{event.slug}/join", {"code": event.join_code})

    page = response.content.decode()
    assert response.status_code == 200
    assert '<label for="code">Badge code</label>' in page
    assert 'role="alert"' not in page
    assert ATTENDEE_COOKIE not in response.cookies


def test_a_badge_code_joins_as_the_badge_attendee(client, organizer):
    event = factories.make_event(organizer, identity_mode="badge")
    (badge,) = event_services.generate_badges(event=event, count=1)

    response = client.post(f"/e/{event.slug}/join", {"code": badge.code})

    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/"
    assert client.get(f"/e/{event.slug}/").context["attendee"] == badge.attendee


def test_a_revoked_badge_is_refused_with_a_help_desk_message(client, organizer):
    event = factories.make_event(organizer, identity_mode="badge")
    (badge,) = event_services.generate_badges(event=event, count=1)
    event_services.revoke_badge(event=event, code=badge.code)

    response = client.post(f"/e/{event.slug}/join", {"code": badge.code})

    assert response.status_code == 403
    assert "This badge was revoked. Ask at the help desk for a new one." in response.content.decode()
    assert ATTENDEE_COOKIE not in response.cookies


def test_an_unknown_event_is_a_404_page(client):
    response = client.get("/e/no-such-event/join", {"code": "ABC123"})

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


# --- the event page ---------------------------------------------------------------------------


def test_the_event_page_sends_strangers_to_the_join_page(client, event):
    response = client.get(f"/e/{event.slug}/")

    assert response.status_code == 302
    assert response["Location"] == f"/e/{event.slug}/join"


def _page_data(response) -> dict:
    match = re.search(
        r'<script id="page-data" type="application/json">(.*?)</script>', response.content.decode()
    )
    return json.loads(match.group(1))


def test_the_event_page_hands_its_data_to_the_js_without_the_join_code_and_sets_the_csrf_cookie(event):
    client = joined_client(event)

    response = client.get(f"/e/{event.slug}/")

    data = _page_data(response)
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert data["slug"] == event.slug
    assert data["attendee"] == Attendee.objects.get().public_id
    assert "join_code" not in data["event"]
    assert event.join_code not in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_event_page_has_no_inline_script_or_style(event):
    client = joined_client(event)

    page = client.get(f"/e/{event.slug}/").content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert [attrs for attrs, body in scripts if body.strip() and 'type="application/json"' not in attrs] == []
    assert " style=" not in page
    assert "<style" not in page
    assert re.search(r"\son[a-z]+=", page) is None


def test_attendee_text_is_escaped_in_every_page(organizer):
    event = factories.make_event(organizer, name=HOSTILE)
    client = joined_client(event)
    proposal = proposal_services.submit_proposal(event=event, author=None, title=HOSTILE)
    _publish(event, [(proposal, 0, 0)])

    pages = [
        client.get(f"/e/{event.slug}/"),
        client.get(f"/e/{event.slug}/schedule/"),
        Client().get(f"/e/{event.slug}/join"),
    ]

    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert HOSTILE not in html
        assert "<img src=x" not in html
        assert html.count("<script") == html.count("</script>") <= 2


# --- the schedule page ------------------------------------------------------------------------


def _publish(event, placements):
    """placements: (proposal, room index, slot index); two rooms, as many hourly slots as needed."""
    start = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    rooms = [Room.objects.create(event=event, name=f"Room {name}", capacity=50) for name in "AB"]
    slots = [
        Slot.objects.create(
            event=event, starts_at=start + timedelta(hours=i), ends_at=start + timedelta(hours=i, minutes=45)
        )
        for i in range(1 + max(slot for _, _, slot in placements))
    ]
    for proposal, room, slot in placements:
        ScheduledSession.objects.create(event=event, proposal=proposal, room=rooms[room], slot=slots[slot])
    event_services.update_event(event=event, changes={"schedule_published": True})


def test_the_schedule_is_a_404_page_until_published(event):
    client = joined_client(event)

    response = client.get(f"/e/{event.slug}/schedule/")

    assert response.status_code == 404
    assert "The schedule is not published yet." in response.content.decode()


def test_the_schedule_highlights_my_picks_and_flags_a_clash(event):
    client = joined_client(event)
    attendee = Attendee.objects.get()
    mine, also_mine, other = (
        proposal_services.submit_proposal(event=event, author=None, title=title)
        for title in ("Alpha", "Beta", "Gamma")
    )
    vote_services.set_dots(attendee=attendee, proposal_id=mine.pk, dots=1)
    vote_services.set_dots(attendee=attendee, proposal_id=also_mine.pk, dots=1)
    _publish(event, [(mine, 0, 0), (also_mine, 1, 0), (other, 0, 1)])

    response = client.get(f"/e/{event.slug}/schedule/")

    html = response.content.decode()
    highlighted = re.findall(
        r'<li class="session is-mine">.*?<p class="session-title" dir="auto">(.*?)</p>', html, re.S
    )
    assert response.status_code == 200
    assert highlighted == ["Alpha", "Beta"]
    assert "Clash: in one time slot you picked more than one session. Choose one." in html
    assert "Your 2 picks are highlighted." in html


def test_anyone_may_read_a_published_schedule(event):
    (proposal,) = factories.make_proposals(event, 1)
    _publish(event, [(proposal, 0, 0)])

    response = Client().get(f"/e/{event.slug}/schedule/")

    assert response.status_code == 200
    assert proposal.title in response.content.decode()
    assert "is-mine" not in response.content.decode()


def _round_names_and_titles(html: str) -> list[str]:
    return re.findall(
        r'<h2 class="round-name" dir="auto">([^<]*)|<p class="session-title" dir="auto">([^<]*)', html
    )


def test_the_schedule_lists_earlier_rounds_under_their_names(event):
    from voting.events import rounds

    first, carried = (
        proposal_services.submit_proposal(event=event, author=None, title=title)
        for title in ("Alpha", "Beta")
    )
    _publish(event, [(first, 0, 0)])
    afternoon = rounds.create_round(event=event, name="Afternoon <script>x</script>")
    rounds.start_round(event=event, round_id=afternoon.pk)
    # Round 2 gets a draft: the public does not see it until it is published.
    start = timezone.now().replace(hour=15, minute=0, second=0, microsecond=0)
    slot = Slot.objects.create(event=event, starts_at=start, ends_at=start + timedelta(minutes=45))
    ScheduledSession.objects.create(event=event, proposal=carried, room=Room.objects.first(), slot=slot)

    html = Client().get(f"/e/{event.slug}/schedule/").content.decode()

    assert _round_names_and_titles(html) == [("Round 1", ""), ("", "Alpha")]
    assert "Beta" not in html
    assert "Draft" not in html

    event_services.update_event(event=event, changes={"schedule_published": True})
    html = Client().get(f"/e/{event.slug}/schedule/").content.decode()

    assert _round_names_and_titles(html) == [
        ("Round 1", ""),
        ("", "Alpha"),
        ("Afternoon &lt;script&gt;x&lt;/script&gt;", ""),
        ("", "Beta"),
    ]
    assert "<script>x" not in html


def test_a_schedule_of_one_round_shows_no_round_names(event):
    (proposal,) = factories.make_proposals(event, 1)
    _publish(event, [(proposal, 0, 0)])

    html = Client().get(f"/e/{event.slug}/schedule/").content.decode()

    assert "round-name" not in html
    assert proposal.title in html


# --- weight and offline -----------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in ("stylesheet", "modulepreload"):
            self.urls.append(attrs["href"])


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def first_load(client, event) -> dict[str, int]:
    """Every file the event page loads on first visit (ES module imports followed) and its size."""
    page = client.get(f"/e/{event.slug}/")
    parser = _Assets()
    parser.feed(page.content.decode())
    todo, seen, sizes = list(parser.urls), set(), {f"/e/{event.slug}/": len(page.content)}

    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        body = _body(response)
        sizes[url] = len(body)
        if url.endswith(".js"):
            base = url.rsplit("/", 1)[0]
            todo += [
                f"{base}/{name}"
                for name in re.findall(rb'from "\./([\w.-]+\.js)"', body)
                for name in [name.decode()]
            ]
    return sizes


def test_the_first_load_of_the_event_page_is_under_100_kb(event):
    sizes = first_load(joined_client(event), event)

    assert {"/static/voting/app.css", "/static/voting/phone.js", "/static/voting/feed.js"} <= set(sizes)
    assert sum(sizes.values()) < 100 * 1024, sizes


def test_the_offline_copy_holds_every_file_the_page_loads(event):
    from voting.events.pages import PHONE_ASSETS

    loaded = {url for url in first_load(joined_client(event), event) if url.startswith("/static/")}

    assert loaded == {f"/static/{path}" for path in PHONE_ASSETS}


def test_the_service_worker_is_served_from_the_event_scope(event):
    response = Client().get(f"/e/{event.slug}/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert b'addEventListener("fetch"' in response.content


def test_every_string_the_phone_js_uses_is_defined_for_translation():
    used = set()
    for name in ("phone.js", "phone-list.js", "phone-propose.js", "phone-schedule.js"):
        source = (STATIC / name).read_text()
        used |= set(re.findall(r"\bT\.(\w+)", source))
        used |= {
            f"{base}_{form}" for base in re.findall(r'plural\("(\w+)"', source) for form in ("one", "other")
        }
    used |= {f"status_{status}" for status in ("published", "pending", "hidden", "merged")}

    assert sorted(used - set(PHONE_STRINGS)) == []
