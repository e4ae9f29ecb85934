"""The stage at 1920×1080 as the back row of an 800-seat hall sees it (contract 2, 4, 5.2):
no text under 28 px (the contract says 24) and no serious accessibility issue in any view or
state, results with the cut line and ties, now/next with countdown, hosts, rooms and directions, the views the
organizers choose, and a side panel that fits the phase."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import call, serious_accessibility_issues
from tests.browser.test_stage import LIVE_MS, board, no_scrollbars, open_stage, vote
from voting.events import services as event_services
from voting.models import Event, Room, ScheduledSession, Slot
from voting.proposals import services as proposal_services

# The stage's own floor, 2.6u = 28 px at 1920x1080 (stage.css --small), above the contract's 24 px.
SMALL_TEXT_JS = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const owner = node.parentElement;
    if (!node.textContent.trim() || !owner.getClientRects().length) continue;
    const style = getComputedStyle(owner);
    if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    const size = parseFloat(style.fontSize);
    if (size < 28) small.push(`${owner.id || owner.className}: ${size}px "${node.textContent.trim().slice(0, 30)}"`);
  }
  return small;
}"""


def assert_readable(stage) -> None:
    """What the back row needs in every view: big text, contrast (axe), nothing cut off."""
    stage.wait_for_timeout(900)  # bars and cards settle
    assert stage.evaluate(SMALL_TEXT_JS) == []
    assert serious_accessibility_issues(stage) == []
    assert no_scrollbars(stage)


def scheduled_event(organizer, *, running=True, **fields):
    """Three rooms (two with directions), a slot running now (or not) and the next one."""
    event = factories.make_event(organizer, voting_open=False, schedule_published=True, **fields)
    rooms = [
        Room.objects.create(event=event, name="Main hall", capacity=300),
        Room.objects.create(
            event=event, name="Room A", capacity=60, directions="1st floor, left of the stairs"
        ),
        Room.objects.create(
            event=event, name="Room B", capacity=40, directions="Ground floor, past the café"
        ),
    ]
    now = timezone.now()
    first = now - timedelta(minutes=10) if running else now + timedelta(hours=3)
    slots = [
        Slot.objects.create(event=event, starts_at=first, ends_at=first + timedelta(minutes=40)),
        Slot.objects.create(
            event=event, starts_at=first + timedelta(minutes=50), ends_at=first + timedelta(minutes=90)
        ),
    ]
    titles = [
        ("Interpretability of large language models", "Ana Souza"),
        ("Postgres tricks", "Eve Kowalski"),
        ("Accessible forms", "Jo Nakamura"),
        ("Packaging in 2026", "Chen Wei"),
        ("Self-hosting for small teams", "Lea Dubois"),
    ]
    sessions = []
    for index, (title, host) in enumerate(titles):
        proposal = proposal_services.submit_proposal(event=event, author=None, title=title, host_name=host)
        ScheduledSession.objects.create(
            event=event, proposal=proposal, room=rooms[index % 3], slot=slots[index // 3]
        )
        sessions.append(proposal)
    return event, rooms, slots, sessions


def test_every_view_and_state_is_readable_from_the_back_row(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    empty = factories.make_event(organizer)
    stage = open_stage(desktop, empty, 1920, 1080)
    expect(stage.locator("#stage-phase")).to_have_text("Vote now")
    assert_readable(stage)  # the empty board

    fresh = factories.make_event(organizer, name="Fresh event")
    for title in ("Alpha", "Bravo", "Charlie"):
        proposal_services.submit_proposal(event=fresh, author=None, title=title, host_name="Someone")
    factories.join(fresh)
    event_services.update_event(event=fresh, changes={"voting_open": True})
    Event.objects.filter(pk=fresh.pk).update(stage_view="ranking")
    stage = open_stage(desktop, fresh, 1920, 1080)
    expect(stage.locator("#ranking .row")).to_have_count(3)
    assert stage.locator("#ranking .row.is-lead").count() == 0  # no gold bar, dark text, without dots
    assert_readable(stage)  # the #1 row of a fresh event

    blind = factories.make_event(organizer, tally_visibility="blind")
    proposal_services.submit_proposal(event=blind, author=None, title="Hidden counts")
    token = factories.join(blind)[2]
    stage = open_stage(desktop, blind, 1920, 1080)
    vote(server, blind, token, blind.proposals.get())
    expect(stage.locator("#meter-voters")).to_have_text("1", timeout=LIVE_MS)
    assert_readable(stage)  # the blind meter

    event, *_ = scheduled_event(organizer)
    stage = open_stage(desktop, event, 1920, 1080)
    for view, phase in [
        ("now", "Now and next"),
        ("schedule", "Schedule"),
        ("results", "Results"),
        ("ranking", "Propose now"),  # no dot cast yet: the phase is still proposing
        ("qr", "Join"),
        ("announcement", "Announcement"),
    ]:
        changes = {"stage_view": view, "announcement": "Lunch is served in the foyer until 13:30"}
        assert call(server, "PATCH", f"/api/events/{event.slug}", changes, organizer=organizer)[0] == 200
        expect(stage.locator("#stage")).to_have_attribute("data-view", view, timeout=LIVE_MS)
        expect(stage.locator("#stage-phase")).to_have_text(phase)
        assert_readable(stage)
    assert stage.errors == []


def test_results_draw_the_cut_line_and_show_ties_as_ties(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    a, b, c, d = (
        proposal_services.submit_proposal(event=event, author=None, title=title)
        for title in ("Alpha", "Bravo", "Charlie", "Delta")
    )
    Room.objects.create(event=event, name="Hall", capacity=50)
    for hour in (1, 2):
        Slot.objects.create(
            event=event,
            starts_at=timezone.now() + timedelta(hours=hour),
            ends_at=timezone.now() + timedelta(hours=hour, minutes=45),
        )
    tokens = [factories.join(event)[2] for _ in range(3)]
    for token in tokens:
        vote(server, event, token, a)
    vote(server, event, tokens[0], b)
    vote(server, event, tokens[1], c)
    stage = open_stage(desktop, event, 1920, 1080)

    call(server, "PATCH", f"/api/events/{event.slug}", {"voting_open": False}, organizer=organizer)

    expect(stage.locator("#stage-phase")).to_have_text("Results", timeout=LIVE_MS)
    assert board(stage) == [[1, "Alpha", "3"], [2, "Bravo", "1"], [2, "Charlie", "1"], [4, "Delta", "0"]]
    assert stage.locator("#ranking .row-rank").all_text_contents() == ["1", "=2", "=2", "–"]
    stage.wait_for_timeout(1000)  # the rows finish sliding into place
    expect(stage.locator("#cut-line")).to_have_text(
        "Cut line: the top 2 get a room · tie at the line, the earlier proposal goes first"
    )
    cut = stage.locator("#cut-line").bounding_box()
    bravo, charlie = (stage.locator(f'#ranking .row[data-pos="{n}"]').bounding_box() for n in (2, 3))
    assert bravo["y"] + bravo["height"] <= cut["y"] and cut["y"] + cut["height"] <= charlie["y"]
    assert stage.locator("#ranking .row.is-below-cut .row-title").all_text_contents() == ["Charlie", "Delta"]
    expect(stage.locator("#ranking-foot")).to_contain_text("= tied: same dots, same number of voters")


def test_now_and_next_show_countdown_hosts_rooms_and_directions(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event, rooms, slots, sessions = scheduled_event(organizer)

    stage = open_stage(desktop, event, 1920, 1080)

    expect(stage.locator("#stage-phase")).to_have_text("Now and next")
    cards = stage.locator("#now-cards .now-card")
    expect(cards).to_have_count(3)
    parts = (".now-room", ".now-directions", ".now-title", ".now-host")
    assert [cards.nth(1).locator(part).text_content() for part in parts] == [
        "Room A",
        "1st floor, left of the stairs",
        "Postgres tricks",
        "Eve Kowalski",
    ]
    expect(stage.locator("#next-cards .now-card")).to_have_count(2)
    expect(stage.locator("#now-clock")).to_have_text(
        re.compile(r"^until \d\d:\d\d( [AP]M)? · ends in (29|30):\d\d$")
    )
    expect(stage.locator("#next-clock")).to_have_text(
        re.compile(r"^\d\d:\d\d( [AP]M)? · starts in (39|40):\d\d$")
    )
    first = stage.locator("#now-clock").text_content()
    stage.wait_for_timeout(1200)
    assert stage.locator("#now-clock").text_content() != first  # the countdown runs
    expect(stage.locator("#join-scan")).to_have_text("Scan for your schedule")


def test_organizers_switch_the_stage_to_an_announcement_and_back(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    proposal_services.submit_proposal(event=event, author=None, title="<script>window.__pwned=1</script>")
    stage = open_stage(desktop, event, 1920, 1080)
    expect(stage.locator("#join-qr")).to_be_visible()

    changes = {"stage_view": "announcement", "announcement": "<b>Coffee</b> in the foyer"}
    call(server, "PATCH", f"/api/events/{event.slug}", changes, organizer=organizer)

    expect(stage.locator("#announcement-text")).to_have_text("<b>Coffee</b> in the foyer", timeout=LIVE_MS)
    expect(stage.locator("#join-qr")).to_be_hidden()  # the whole board is the announcement
    call(server, "PATCH", f"/api/events/{event.slug}", {"stage_view": "qr"}, organizer=organizer)
    expect(stage.locator("#view-qr")).to_be_visible(timeout=LIVE_MS)
    expect(stage.locator("#join-qr")).to_be_visible()
    assert stage.evaluate("() => window.__pwned") is None


def test_after_voting_the_side_panel_no_longer_asks_to_propose_and_vote(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    proposal = proposal_services.submit_proposal(event=event, author=None, title="Alpha")
    vote(server, event, factories.join(event)[2], proposal)
    stage = open_stage(desktop, event, 1920, 1080)
    expect(stage.locator("#join-scan")).to_have_text("Scan to propose and vote")

    call(server, "PATCH", f"/api/events/{event.slug}", {"voting_open": False}, organizer=organizer)

    expect(stage.locator("#join-scan")).to_have_text("Scan to see the results", timeout=LIVE_MS)


def test_schedule_cells_keep_words_whole_and_show_hosts_and_end_times(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event, rooms, slots, sessions = scheduled_event(organizer, running=False, stage_view="schedule")
    for n in range(1):  # four rooms: narrower cells
        Room.objects.create(event=event, name=f"Side room {n}", capacity=10)

    stage = open_stage(desktop, event, 1920, 1080)

    cell = stage.locator(".schedule-cell", has_text="Interpretability")
    expect(cell.locator(".cell-host")).to_have_text("Ana Souza")
    title = cell.locator(".cell-title")
    assert title.evaluate("t => t.scrollWidth <= t.clientWidth + 1 && !t.classList.contains('is-squeezed')")
    assert stage.locator(".schedule-time .schedule-end").first.text_content().startswith("–")
    assert stage.evaluate(SMALL_TEXT_JS) == []


def test_a_german_projector_shows_the_stage_in_german(transactional_db, server, desktop):
    """The projector laptop's browser language picks the board's language (contract 5.2)."""
    event = factories.make_event(voting_open=True)
    factories.make_proposals(event, 2)
    page = desktop(1920, 1080, locale="de-DE")
    page.goto(f"/e/{event.slug}/stage/")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#stage-phase")).to_have_text("Jetzt abstimmen")
    expect(page.locator("#stage")).to_contain_text("Scannen zum Vorschlagen und Abstimmen")
