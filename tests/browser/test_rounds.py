"""Rounds (contract 5.1) as people see them: the organizer prepares and starts round 2 in the
console behind a confirm dialog; a phone that spent its budget in round 1 has it back, without
the session round 1 scheduled; the ended round's published schedule stays on show, under its name.
"""

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import call
from tests.browser.test_console import open_console
from tests.browser.test_phone import card_by_id, open_phone
from voting.events import rounds
from voting.events import services as event_services
from voting.models import Event, Room, Round, ScheduledSession, Slot
from voting.proposals import services as proposal_services

LIVE = 5000  # ms: how long a screen may take to show a change made elsewhere


def _round_one_scheduled(event, proposal):
    """Round 1 has a room, a slot and `proposal` placed there, its schedule published."""
    room = Room.objects.create(event=event, name="Main hall", capacity=100)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=1)
    slot = Slot.objects.create(event=event, starts_at=start, ends_at=start + timedelta(minutes=45))
    ScheduledSession.objects.create(event=event, proposal=proposal, room=room, slot=slot)
    Event.objects.filter(pk=event.pk).update(schedule_published=True)


def test_organizer_starts_round_two_and_a_phone_gets_its_budget_back(
    transactional_db, server, desktop, phone
):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, votes_per_attendee=2, max_dots_per_proposal=1)
    chosen, other, third = factories.make_proposals(event, 3)
    voter = open_phone(phone, event)
    for proposal in (chosen, other):
        card_by_id(voter, proposal).get_by_role("button", name=re.compile("^Vote for")).click()
    expect(voter.locator("#meter-text")).to_have_text("0 of 2 dots left")
    event_services.update_event(event=event, changes={"voting_open": False})
    _round_one_scheduled(event, chosen)

    console = open_console(desktop, server, organizer, event)
    expect(console.locator("#round-now")).to_have_text("Round 1")
    rows = console.locator("#round-list li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("aria-current", "true")
    expect(console.locator(".export-round")).to_be_hidden()  # one round: nothing to pick

    console.get_by_label("Prepare the next round").fill("Afternoon")
    console.get_by_role("button", name="Prepare").click()
    expect(console.locator("#toast")).to_have_text(
        "“Afternoon” is prepared. Start it when “Round 1” is over."
    )
    afternoon = rows.filter(has_text="Afternoon")
    expect(afternoon).to_contain_text("prepared, not started")
    assert Round.objects.get(event=event, name="Afternoon").started_at is None

    afternoon.get_by_role("button", name="Start").click()
    dialog = console.locator("#confirm-dialog")
    expect(dialog.locator("#confirm-title")).to_have_text("Start “Afternoon” now?")
    for said in (
        "Voting and proposals of “Round 1” close at once.",
        "Every attendee gets a fresh budget of dots.",
        "Proposals not yet scheduled carry over with zero dots.",
        "The results and the schedule of “Round 1” stay as they are.",
    ):
        expect(dialog.locator("#confirm-text")).to_contain_text(said)
    dialog.locator("#confirm-ok").click()
    expect(dialog).to_be_hidden()

    expect(console.locator("#round-now")).to_have_text("Afternoon")
    expect(afternoon).to_have_attribute("aria-current", "true")
    expect(afternoon).to_contain_text("current")
    expect(rows.filter(has_text="Round 1")).to_contain_text("ended")
    expect(console.locator("#phase-now")).to_have_text("Proposals are open")
    assert Event.objects.get(pk=event.pk).current_round.name == "Afternoon"

    # Round 1's files stay one pick away.
    first = Round.objects.get(event=event, name="Round 1")
    console.get_by_label("Round", exact=True).select_option(label="Round 1")
    link = console.locator("a[data-round-link]").first
    expect(link).to_have_attribute("href", f"/api/events/{event.slug}/results.csv?round={first.pk}")

    console.get_by_role("button", name="Open voting").click()
    expect(console.locator("#phase-now")).to_have_text("Voting is open")

    expect(voter.locator("#meter-text")).to_have_text("2 of 2 dots left", timeout=LIVE)
    expect(card_by_id(voter, chosen)).to_have_count(0)
    expect(card_by_id(voter, other)).to_be_visible()
    expect(card_by_id(voter, third)).to_be_visible()
    card_by_id(voter, third).get_by_role("button", name=re.compile("^Vote for")).click()
    expect(voter.locator("#meter-text")).to_have_text("1 of 2 dots left")
    assert console.errors == []

    # The phone's schedule tab: round 2 is not published yet; round 1's stays, under its name.
    voter.locator("#tab-schedule").click()
    earlier = voter.locator("#my-schedule .round-name")
    expect(earlier).to_have_text(["Round 1"])
    expect(voter.locator("#my-schedule .pick-title")).to_have_text([chosen.title])

    status, body = call(
        server, "GET", f"/api/events/{event.slug}/results?round={first.pk}", organizer=organizer
    )
    assert status == 200
    assert {r["id"]: r["dots"] for r in body if r["dots"]} == {chosen.pk: 1, other.pk: 1}


def test_schedule_console_adds_slots_to_a_round_and_shows_earlier_rounds_read_only(
    transactional_db, server, desktop
):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, name="Two-day unconf")
    chosen = proposal_services.submit_proposal(event=event, author=None, title="Old <b>session</b>")
    _round_one_scheduled(event, chosen)
    day_two = rounds.create_round(event=event, name="Day 2")
    rounds.start_round(event=event, round_id=day_two.pk)
    day_three = rounds.create_round(event=event, name="Day 3 <i>")

    page = desktop(1600, 1000)
    client = Client()
    client.force_login(organizer)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    page.goto(f"/e/{event.slug}/organize/schedule/")

    earlier = page.locator("#sc-earlier")
    expect(earlier).to_be_visible()
    round_one = earlier.locator(".sc-earlier-round")
    expect(round_one).to_have_count(1)
    expect(round_one.locator("h3")).to_contain_text("Round 1")
    expect(round_one.locator("h3")).to_contain_text("Published")
    expect(round_one.locator(".sc-earlier-title")).to_have_text("Old <b>session</b>")
    expect(round_one.locator("tbody tr td").nth(1)).to_have_text("Main hall")
    # The editor is round 2's: no slots yet, round 1's session is not on its board.
    expect(page.locator("#sc-slots")).to_contain_text("No slots yet.")

    picker = page.get_by_label("Round", exact=True)
    expect(picker).to_have_value(str(day_two.pk))
    expect(picker.locator("option")).to_have_text(["Day 2 (current)", "Day 3 <i>"])
    picker.select_option(label="Day 3 <i>")
    page.locator("#sc-slot-form [name=starts_at]").fill("2030-05-02T10:00")
    page.locator("#sc-slot-form [name=ends_at]").fill("2030-05-02T10:45")
    page.get_by_role("button", name="Add slot").click()
    expect(page.locator("#sc-message")).to_contain_text("to “Day 3 <i>”")
    assert Slot.objects.get(event=event, starts_at__year=2030).round_id == day_three.pk
    expect(page.locator("#sc-slots")).to_contain_text("No slots yet.")


def test_stage_shows_the_earlier_rounds_published_schedule_under_its_name(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, name="Two rounds")
    chosen, carried = factories.make_proposals(event, 2)
    _round_one_scheduled(event, chosen)
    second = rounds.create_round(event=event, name="Afternoon")
    rounds.start_round(event=event, round_id=second.pk)

    status, _ = call(
        server, "PATCH", f"/api/events/{event.slug}", {"stage_view": "schedule"}, organizer=organizer
    )
    assert status == 200
    stage = desktop(1920, 1080)
    stage.goto(f"/e/{event.slug}/stage/")

    expect(stage.locator("#view-schedule")).to_be_visible(timeout=LIVE)
    expect(stage.locator(".schedule-round")).to_have_text(["Round 1"])
    expect(stage.locator(".schedule-cell .cell-title")).to_have_text([chosen.title])
    expect(stage.locator("#schedule-grid")).not_to_contain_text(carried.title)
