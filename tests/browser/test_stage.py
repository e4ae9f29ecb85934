"""The stage board in real Chromium at projector sizes: QR join, live bars, blind meter and
reveal, hostile titles, reconnecting, and screenshots of every phase.

Votes that must move the board fast go through the server over HTTP (as phones send them);
data that only sets the scene goes straight into the test database.
"""

import io
import random
import re
from datetime import timedelta

import pytest
import zxingcpp
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import call, screenshot, serious_accessibility_issues, watch_errors
from tests.live import DaphneServer
from voting.events import services as event_services
from voting.models import Event, Proposal, Room, ScheduledSession, Slot, Vote
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

LIVE_MS = 2000  # the board must show a vote within this time


def vote(server, event, token: str, proposal, dots: int = 1) -> None:
    status, body = call(
        server, "PUT", f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": dots}, attendee=token
    )
    assert status == 200, body


def open_stage(desktop, event, width=1280, height=720):
    page = desktop(width, height)
    watch_errors(page)
    page.goto(f"/e/{event.slug}/stage/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return page


def board(page) -> list:
    """The ranking as the projector shows it: (rank, title, dots) from the top; tied
    proposals share a rank number."""
    return page.evaluate(RANKING_JS)


RANKING_JS = """() => [...document.querySelectorAll('#ranking .row:not(.is-leaving)')]
    .sort((a, b) => a.dataset.pos - b.dataset.pos)
    .map(r => [Number(r.dataset.rank), r.querySelector('.row-title').textContent,
               r.querySelector('.row-dots').textContent])"""


def wait_for_board(page, expected: list, timeout: int = LIVE_MS) -> None:
    try:
        page.wait_for_function(
            f"expected => JSON.stringify(({RANKING_JS})()) === JSON.stringify(expected)",
            arg=[list(row) for row in expected],
            timeout=timeout,
        )
    except Exception:
        assert board(page) == [list(row) for row in expected]  # says what the board shows instead
        raise


def decode_qr(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def no_scrollbars(page) -> bool:
    return page.evaluate(
        """() => { const d = document.documentElement;
                   return d.scrollWidth <= d.clientWidth && d.scrollHeight <= d.clientHeight; }"""
    )


# --- joining from the projector --------------------------------------------------------------


def test_organizer_creates_an_event_and_a_phone_joins_by_the_stage_qr_code(
    transactional_db, server, desktop, phone
):
    factories.make_organizer("host")
    console = desktop(1280, 800)
    console.goto("/admin/login/?next=/organize/")
    console.fill("#id_username", "host")
    console.fill("#id_password", "correct horse battery")
    console.click("input[type=submit]")
    expect(console).to_have_url(re.compile(r"/organize/$"))

    console.get_by_label("Name").fill("Hall Unconference")
    console.get_by_role("button", name="Create event").click()
    expect(console).to_have_url(re.compile(r"/e/hall-unconference/organize/$"))
    expect(console.locator("#connection")).to_have_attribute("data-state", "live")
    console.get_by_role("button", name="Open voting").click()
    expect(console.locator("#phase-now")).to_have_text("Voting is open")
    console.locator("#new-title").fill("Testing in production")
    console.locator("#add-proposal button").click()
    expect(console.locator("#toast")).to_have_text("Proposal added.")
    event = Event.objects.get(slug="hall-unconference")
    assert event.voting_open is True

    stage = open_stage(desktop, event, 1920, 1080)
    expect(stage.locator("#stage-phase")).to_have_text("Vote now")
    urls = decode_qr(stage.locator("#join-qr").screenshot())
    assert urls == [f"{server.url}/e/hall-unconference/join?code={event.join_code}"]

    attendee = phone()
    attendee.goto(urls[0])
    expect(attendee).to_have_url(re.compile(r"/e/hall-unconference/$"))
    attendee.locator("li.proposal .dot-toggle").first.click()

    proposal = Proposal.objects.get(event=event)
    wait_for_board(stage, [(1, "Testing in production", "1")])
    assert list(Vote.objects.values_list("proposal_id", "dots")) == [(proposal.pk, 1)]
    expect(stage.locator("#join-voted")).to_have_text("1 person voted")


# --- live ranking ----------------------------------------------------------------------------


def test_votes_from_several_attendees_reorder_the_bars_within_two_seconds(transactional_db, server, desktop):
    event = factories.make_event()
    a, b, c = (
        proposal_services.submit_proposal(event=event, author=None, title=title)
        for title in ("Alpha", "Bravo", "Charlie")
    )
    tokens = [factories.join(event)[2] for _ in range(4)]
    stage = open_stage(desktop, event)
    wait_for_board(stage, [(1, "Alpha", "0"), (1, "Bravo", "0"), (1, "Charlie", "0")])

    for token in tokens[:3]:
        vote(server, event, token, c)
    vote(server, event, tokens[3], b)

    wait_for_board(stage, [(1, "Charlie", "3"), (2, "Bravo", "1"), (3, "Alpha", "0")])
    expect(stage.locator("#join-voted")).to_have_text("4 people voted")
    fractions = stage.evaluate(
        "() => [...document.querySelectorAll('#ranking .row')].map(r => [r.dataset.rank, r.style.getPropertyValue('--frac')])"
    )
    assert sorted(fractions) == [["1", "1"], ["2", str(1 / 3)], ["3", "0"]]


def test_taking_dots_back_moves_the_bars_back(transactional_db, server, desktop):
    event = factories.make_event()
    a, b = (proposal_services.submit_proposal(event=event, author=None, title=t) for t in ("Alpha", "Bravo"))
    token = factories.join(event)[2]
    vote(server, event, token, b)
    stage = open_stage(desktop, event)
    wait_for_board(stage, [(1, "Bravo", "1"), (2, "Alpha", "0")])

    vote(server, event, token, b, dots=0)
    vote(server, event, token, a)

    wait_for_board(stage, [(1, "Alpha", "1"), (2, "Bravo", "0")])


# --- blind voting --------------------------------------------------------------------------------


def test_blind_stage_shows_only_participation_until_the_reveal(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, tally_visibility="blind")
    a, b, c = (
        proposal_services.submit_proposal(event=event, author=None, title=t)
        for t in ("Alpha", "Bravo", "Charlie")
    )
    tokens = [factories.join(event)[2] for _ in range(4)]
    stage = open_stage(desktop, event)
    expect(stage.locator("#view-meter")).to_be_visible()

    vote(server, event, tokens[0], a)
    vote(server, event, tokens[1], a)
    vote(server, event, tokens[1], b)
    vote(server, event, tokens[2], c)

    expect(stage.locator("#meter-people")).to_have_text("3 of 4 people voted", timeout=LIVE_MS)
    expect(stage.locator("#meter-voters")).to_have_text("3")
    expect(stage.locator("#meter-dots")).to_have_text("4 of 20 dots spent")
    html = stage.content()
    assert stage.locator("#ranking > *").count() == 0
    assert [title for title in ("Alpha", "Bravo", "Charlie") if title in html] == []
    assert "row-dots" not in html

    status, _ = call(
        server, "PATCH", f"/api/events/{event.slug}", {"voting_open": False}, organizer=organizer
    )
    assert status == 200
    expect(stage.locator("#stage-phase")).to_have_text("Voting closed")
    expect(stage.locator("#meter-note")).to_have_text("Voting is closed. The results are coming up…")
    status, _ = call(
        server, "PATCH", f"/api/events/{event.slug}", {"results_revealed": True}, organizer=organizer
    )
    assert status == 200

    expect(stage.locator("#ranking")).to_have_class(re.compile("is-revealing"), timeout=LIVE_MS)
    expect(stage.locator("#stage-phase")).to_have_text("Results")
    expect(stage.locator('#ranking .row.is-shown[data-rank="1"]')).to_be_visible(timeout=5000)
    assert board(stage) == [[1, "Alpha", "2"], [2, "Bravo", "1"], [2, "Charlie", "1"]]


def test_blind_stage_opened_by_a_signed_in_organizer_still_shows_no_counts(transactional_db, server, desktop):
    # Organizers open the stage from their console, so its socket gets the organizers' counts.
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, tally_visibility="blind")
    alpha = proposal_services.submit_proposal(event=event, author=None, title="Alpha")
    token = factories.join(event)[2]
    client = Client()
    client.force_login(organizer)
    page = desktop(1280, 720)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    page.goto(f"/e/{event.slug}/stage/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")

    vote(server, event, token, alpha)

    expect(page.locator("#meter-people")).to_have_text("1 of 1 person voted", timeout=LIVE_MS)
    assert page.locator("#ranking > *").count() == 0
    assert "Alpha" not in page.content()


# --- hostile text ----------------------------------------------------------------------------------

HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "\u202eesrever ni txet \u2066isolate",
    "🎉" * 60,
    "Ω" + "W" * 119,
]


def test_hostile_titles_are_plain_text_on_the_stage(transactional_db, server, desktop):
    event = factories.make_event()
    proposals = [
        proposal_services.submit_proposal(event=event, author=None, title=title, host_name="<b>host</b>")
        for title in HOSTILE
    ]
    token = factories.join(event)[2]
    vote(server, event, token, proposals[2])

    stage = open_stage(desktop, event, 1920, 1080)
    others = [title for title in HOSTILE if title != HOSTILE[2]]
    wait_for_board(
        stage,
        [(1, HOSTILE[2], "1")] + [(2, title, "0") for title in others],  # tied at zero
    )

    assert stage.evaluate("() => window.__pwned") is None
    assert stage.locator("#ranking img, #ranking script, #ranking b").count() == 0
    assert stage.locator(".row-host").all_text_contents() == ["<b>host</b>"] * 5
    # The right-to-left override stays inside its title: the count beside it still reads "1".
    assert stage.locator('.row[data-rank="1"] .row-dots').text_content() == "1"
    assert no_scrollbars(stage)


# --- fit and resilience ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_stage_fits_the_projector_without_scrollbars(transactional_db, server, desktop, size):
    event = factories.make_event()
    titles = [f"Session {n} about something interesting" for n in range(14)] + ["A" * 120]
    for title in titles:
        proposal_services.submit_proposal(
            event=event, author=None, title=title, host_name="Someone with a long name"
        )

    stage = open_stage(desktop, event, *size)
    expect(stage.locator("#ranking .row")).to_have_count(7)

    assert no_scrollbars(stage)
    expect(stage.locator("#ranking-foot")).to_have_text("+ 8 more proposals")
    for part in ("#join-qr", "#join-code", "#join-host", "#ranking .row >> nth=6"):
        box = stage.locator(part).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], part
        assert box["y"] >= 0 and box["y"] + box["height"] <= size[1], part


def test_stage_says_it_is_reconnecting_and_resyncs_after_the_server_comes_back(transactional_db, desktop):
    event = factories.make_event()
    alpha = proposal_services.submit_proposal(event=event, author=None, title="Alpha")
    attendee = factories.join(event)[0]
    own = DaphneServer().start()
    try:
        stage = desktop(1280, 720)
        stage.goto(f"{own.url}/e/{event.slug}/stage/")
        wait_for_board(stage, [(1, "Alpha", "0")], timeout=5000)

        own.stop()
        expect(stage.locator("#connection")).to_have_attribute("data-state", "reconnecting")
        expect(stage.locator("body")).to_have_class(re.compile("is-offline"), timeout=5000)
        expect(stage.locator("#connection-text")).to_have_text("Reconnecting…")
        vote_services.set_dots(attendee=attendee, proposal_id=alpha.pk, dots=1)  # while the board is cut off
        own.start()

        # Backoff with jitter: the retries after a restart can be several seconds apart.
        expect(stage.locator("#connection")).to_have_attribute("data-state", "live", timeout=25000)
        wait_for_board(stage, [(1, "Alpha", "1")], timeout=5000)
        expect(stage.locator("body")).not_to_have_class(re.compile("is-offline"))
    finally:
        own.stop()


def test_countdown_runs_from_server_time_and_closes_the_board_at_the_deadline(
    transactional_db, server, desktop
):
    event = factories.make_event(voting_closes_at=timezone.now() + timedelta(seconds=3))
    proposal_services.submit_proposal(event=event, author=None, title="Alpha")

    stage = open_stage(desktop, event)

    expect(stage.locator("#stage-phase")).to_have_text(re.compile(r"^Voting closes in 0:0[1-3]$"))
    expect(stage.locator("#stage-phase .clock")).to_have_text(re.compile(r"^0:0[1-3]$"))
    expect(stage.locator("#stage-phase")).to_have_class(re.compile("is-urgent"))
    expect(stage.locator("#stage-phase")).to_have_text("Results", timeout=6000)


def test_propose_phase_shows_the_newest_proposals_as_they_arrive(transactional_db, server, desktop):
    event = factories.make_event(voting_open=False)
    stage = open_stage(desktop, event)
    expect(stage.locator("#stage-phase")).to_have_text("Propose now")
    expect(stage.locator("#propose-count")).to_have_text("No proposals yet. Scan the code and be the first!")

    token = factories.join(event)[2]
    status, _ = call(
        server, "POST", f"/api/events/{event.slug}/proposals", {"title": "Fresh idea"}, attendee=token
    )

    assert status == 201
    expect(stage.locator("#propose-wall .wall-title")).to_have_text(["Fresh idea"], timeout=LIVE_MS)
    expect(stage.locator("#propose-count")).to_have_text("1 proposal so far")


# --- screenshots (docs/) --------------------------------------------------------------------------

TALKS = [
    ("Async Django in production: war stories", "Ana Souza"),
    ("Postgres tricks every developer should know", "Eve Kowalski"),
    ("HTMX or a SPA? Let's argue", "Ivo Marić"),
    ("Rust extensions for Python with PyO3", "Fay Chen"),
    ("Testing with real databases", "Hal Berg"),
    ("Type hints everywhere?", "Ben Okafor"),
    ("Packaging in 2026: where are we?", "Chen Wei"),
    ("Maintainer burnout: a support circle", "Gus Lindqvist"),
    ("Accessible forms from scratch", "Jo Nakamura"),
    ("Teaching Python to kids", "Dee Adeyemi"),
    ("Profiling without tears", "Kim Park"),
    ("Self-hosting for small teams", "Lea Dubois"),
]


def _crowd(event, votes_per_person: int, people: int, seed: int = 7) -> list[Proposal]:
    proposals = [
        proposal_services.submit_proposal(event=event, author=None, title=title, host_name=host)
        for title, host in TALKS
    ]
    rng = random.Random(seed)
    weights = [12, 11, 9, 8, 7, 6, 5, 4, 3, 3, 2, 1]
    for _ in range(people):
        attendee = factories.join(event)[0]
        chosen = set()
        while len(chosen) < votes_per_person:
            chosen.add(rng.choices(range(len(proposals)), weights)[0])
        for index in chosen:
            vote_services.set_dots(attendee=attendee, proposal_id=proposals[index].pk, dots=1)
    for _ in range(people // 4):
        factories.join(event)  # joined, not voted yet
    return proposals


def test_stage_screenshots_of_every_phase(transactional_db, server, desktop, tmp_path):
    organizer = factories.make_organizer()
    live = factories.make_event(
        organizer,
        name="PyCon Unconference 2026",
        voting_closes_at=timezone.now() + timedelta(minutes=4, seconds=12),
    )
    _crowd(live, 3, 48)
    stage = open_stage(desktop, live, 1920, 1080)
    expect(stage.locator("#ranking .row")).to_have_count(7)
    stage.wait_for_timeout(900)  # let the bars finish growing
    assert no_scrollbars(stage)
    screenshot(stage, "stage-live", tmp_path)
    assert serious_accessibility_issues(stage) == []

    blind = factories.make_event(organizer, name="PyCon Unconference 2026", tally_visibility="blind")
    _crowd(blind, 3, 48)
    stage = open_stage(desktop, blind, 1920, 1080)
    expect(stage.locator("#meter-people")).to_have_text("48 of 60 people voted")
    stage.wait_for_timeout(900)
    screenshot(stage, "stage-blind", tmp_path)
    assert serious_accessibility_issues(stage) == []

    event_services.update_event(event=blind, changes={"voting_open": False})
    # Two rooms × two slots: the top four get a room, the results draw the cut line under them.
    for name in ("Main hall", "Room A"):
        Room.objects.create(event=blind, name=name, capacity=100)
    for hour in (1, 2):
        Slot.objects.create(
            event=blind,
            starts_at=timezone.now() + timedelta(hours=hour),
            ends_at=timezone.now() + timedelta(hours=hour, minutes=45),
        )
    call(server, "PATCH", f"/api/events/{blind.slug}", {"results_revealed": True}, organizer=organizer)
    expect(stage.locator("#stage-phase")).to_have_text("Results", timeout=LIVE_MS)
    expect(stage.locator("#ranking")).not_to_have_class(re.compile("is-revealing"), timeout=10000)
    expect(stage.locator("#cut-line")).to_be_visible()
    screenshot(stage, "stage-results", tmp_path)
    assert stage.errors == []

    scheduled = factories.make_event(organizer, name="PyCon Unconference 2026")
    proposals = _crowd(scheduled, 3, 12)
    event_services.update_event(event=scheduled, changes={"voting_open": False})
    rooms = [
        Room.objects.create(event=scheduled, name=n, capacity=c)
        for n, c in (("Main hall", 300), ("Room A", 60), ("Room B", 40))
    ]
    Room.objects.filter(name="Room A", event=scheduled).update(directions="1st floor, left of the stairs")
    Room.objects.filter(name="Room B", event=scheduled).update(directions="Ground floor, past the café")
    # Slots on the quarter hour, the first one running now: the board highlights it.
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=now.minute % 15 + 15)
    slots = [
        Slot.objects.create(
            event=scheduled,
            starts_at=start + timedelta(hours=i),
            ends_at=start + timedelta(hours=i, minutes=45),
        )
        for i in range(4)
    ]
    for index, proposal in enumerate(proposals[:11]):
        ScheduledSession.objects.create(
            event=scheduled, proposal=proposal, room=rooms[index % 3], slot=slots[index // 3]
        )
    Event.objects.filter(pk=scheduled.pk).update(schedule_published=True, stage_view="schedule")
    stage = open_stage(desktop, scheduled, 1920, 1080)
    expect(stage.locator("#stage-phase")).to_have_text("Schedule")
    expect(stage.locator(".schedule-cell .cell-title")).to_have_count(11)
    assert no_scrollbars(stage)
    screenshot(stage, "stage-schedule", tmp_path)

    # While a slot runs the board follows the sessions on its own: now and next, by room.
    call(server, "PATCH", f"/api/events/{scheduled.slug}", {"stage_view": "auto"}, organizer=organizer)
    expect(stage.locator("#stage-phase")).to_have_text("Now and next", timeout=LIVE_MS)
    expect(stage.locator("#now-cards .now-card")).to_have_count(3)
    assert no_scrollbars(stage)
    screenshot(stage, "stage-now", tmp_path)
    assert stage.errors == []  # the strict CSP holds: no inline script or style was refused
