"""The attendee's phone in real Chromium at 360×640: join, propose, vote, live counts, hostile text.

Data the test arranges goes straight into the test database; changes made here (not through
the server) reach the phones through the server's watchdog within about a second.
"""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from tests import factories
from voting.events import services as event_services
from voting.events.identity import ATTENDEE_COOKIE
from voting.models import Attendee, Proposal, Room, ScheduledSession, Slot, Vote
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

LIVE = 5000  # ms: how long a phone may take to show a change made elsewhere


PAGE_ERRORS = []


@pytest.fixture(autouse=True)
def _no_script_errors():
    """Every phone opened with open_phone() reports uncaught script errors here; none may happen."""
    PAGE_ERRORS.clear()
    yield
    assert PAGE_ERRORS == []


def open_phone(phone, event, **options):
    """A phone that scanned the projected QR code and is live."""
    page = phone(**options)
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    page.goto(f"/e/{event.slug}/join?code={event.join_code}")
    expect(page).to_have_url(re.compile(rf"/e/{event.slug}/$"))
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    return page


def card(page, title):
    return page.locator("li.proposal").filter(has=page.get_by_role("heading", name=title, exact=False))


def card_by_id(page, proposal):
    return page.locator(f'li.proposal[data-id="{proposal.pk}"]')


def test_two_phones_join_by_qr_and_see_each_others_proposals_live(transactional_db, phone):
    event = factories.make_event()
    alice = open_phone(phone, event)
    bob = open_phone(phone, event)

    alice.get_by_role("tab", name="Propose").click()
    alice.get_by_label("Title").fill("Rust for Pythonistas")
    alice.get_by_label("Description").fill("PyO3 and maturin, hands on.")
    alice.get_by_label("Host").fill("Alice")
    alice.get_by_role("button", name="Propose session").click()

    expect(alice.locator("#toast")).to_have_text("Proposed! It is on the list.")
    expect(alice.locator("#own")).to_contain_text("Rust for Pythonistas")
    expect(card(bob, "Rust for Pythonistas")).to_be_visible(timeout=2000)
    expect(card(bob, "Rust for Pythonistas")).to_contain_text("by Alice")
    expect(card(bob, "Rust for Pythonistas").locator(".tag-new")).to_have_text("New")


def test_typing_a_similar_title_offers_to_vote_for_the_existing_proposal(transactional_db, phone):
    event = factories.make_event()
    existing = proposal_services.submit_proposal(event=event, author=None, title="Rust for Pythonistas")
    page = open_phone(phone, event)
    page.get_by_role("tab", name="Propose").click()

    page.get_by_label("Title").press_sequentially("rust for pythonista", delay=20)

    hint = page.locator("#similar")
    expect(hint).to_contain_text("Looks like an existing proposal. Vote for it instead?")
    expect(hint.locator(".similar-title")).to_have_text(["Rust for Pythonistas"])
    hint.get_by_role("button", name="Vote “Rust for Pythonistas”").click()
    expect(hint.get_by_role("button", name="Voted “Rust for Pythonistas”")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#meter-text")).to_have_text("4 of 5 dots left")
    expect(card_by_id(page, existing).locator(".proposal-sync")).to_have_text("Saved")
    assert list(Vote.objects.values_list("proposal_id", "dots")) == [(existing.pk, 1)]


def test_voting_spends_the_budget_and_the_other_phone_sees_live_counts(transactional_db, phone):
    event = factories.make_event(votes_per_attendee=3)
    proposals = factories.make_proposals(event, 4)
    voter = open_phone(phone, event)
    watcher = open_phone(phone, event)
    expect(voter.locator("#meter-text")).to_have_text("3 of 3 dots left")

    for proposal in proposals[:3]:
        card_by_id(voter, proposal).get_by_role("button", name=re.compile("^Vote for")).click()

    expect(voter.locator("#meter-text")).to_have_text("0 of 3 dots left")
    expect(voter.locator("#reason")).to_have_text("All your dots are placed. Take one back to move it.")
    expect(
        card_by_id(voter, proposals[3]).get_by_role("button", name=re.compile("^Vote for"))
    ).to_be_disabled()
    for proposal in proposals[:3]:
        voted = card_by_id(voter, proposal).get_by_role("button", name=re.compile("^Voted for"))
        expect(voted).to_have_attribute("aria-pressed", "true")
        expect(voted).to_be_enabled()
        expect(card_by_id(watcher, proposal).locator(".counts")).to_have_text(
            "1 dot · 1 person", timeout=LIVE
        )
    expect(card_by_id(watcher, proposals[3]).locator(".counts")).to_have_text("0 dots · 0 people")
    expect(watcher.locator("#list-note")).to_have_text("Voted so far: 1 of 2")

    card_by_id(voter, proposals[0]).get_by_role("button", name=re.compile("^Voted for")).click()

    expect(voter.locator("#meter-text")).to_have_text("1 of 3 dots left")
    expect(voter.locator("#reason")).to_be_hidden()
    expect(
        card_by_id(voter, proposals[3]).get_by_role("button", name=re.compile("^Vote for"))
    ).to_be_enabled()
    expect(card_by_id(watcher, proposals[0]).locator(".counts")).to_have_text(
        "0 dots · 0 people", timeout=LIVE
    )
    assert dict(Vote.objects.values_list("proposal_id", "dots")) == {proposals[1].pk: 1, proposals[2].pk: 1}


def test_live_ranking_reorders_the_list_as_votes_come_in(transactional_db, phone):
    event = factories.make_event()
    first, second = factories.make_proposals(event, 2)
    page = open_phone(phone, event)
    expect(page.locator("li.proposal")).to_have_count(2)
    expect(page.locator("li.proposal").first).to_have_attribute("data-id", str(first.pk))

    someone, _client, _token = factories.join(event)
    vote_services.set_dots(attendee=someone, proposal_id=second.pk, dots=1)

    expect(page.locator("li.proposal").first).to_have_attribute("data-id", str(second.pk), timeout=LIVE)
    expect(page.locator("li.proposal .rank")).to_have_text(["1", ""])  # no dots is no rank


def test_blind_mode_keeps_every_count_out_of_the_page_until_results_are_revealed(transactional_db, phone):
    event = factories.make_event(tally_visibility="blind")
    proposals = [
        proposal_services.submit_proposal(event=event, author=None, title=title)
        for title in ("Knitting circle", "Lightning talks", "Board games")
    ]
    voter = open_phone(phone, event)
    watcher = open_phone(phone, event)

    card_by_id(voter, proposals[0]).get_by_role("button", name=re.compile("^Vote for")).click()
    expect(card_by_id(voter, proposals[0]).locator(".proposal-sync")).to_have_text("Saved")
    expect(watcher.locator("#list-note")).to_contain_text("Voted so far: 1 of 2", timeout=LIVE)

    expect(watcher.locator(".counts")).to_have_count(0)
    assert _digits_in_text_and_attributes(watcher.locator("#list")) == []

    event_services.update_event(event=event, changes={"results_revealed": True})

    expect(card_by_id(watcher, proposals[0]).locator(".counts")).to_have_text(
        "1 dot · 1 person", timeout=LIVE
    )
    expect(watcher.locator("li.proposal").first).to_have_attribute("data-id", str(proposals[0].pk))


def test_while_counts_are_hidden_the_list_is_the_apis_stable_shuffle_for_this_attendee(
    transactional_db, phone
):
    event = factories.make_event(tally_visibility="blind")
    proposals = factories.make_proposals(event, 8)
    page = open_phone(phone, event)
    attendee = Attendee.objects.get(event=event)

    expected = sorted(
        proposals, key=lambda p: hashlib.sha256(f"{attendee.public_id}:{p.pk}".encode()).digest()
    )
    token = next(c["value"] for c in page.context.cookies() if c["name"] == ATTENDEE_COOKIE)
    api = APIClient(HTTP_AUTHORIZATION=f"Attendee {token}")
    api_order = [p["id"] for p in api.get(f"/api/events/{event.slug}/proposals?order=random").json()]
    assert api_order == [p.pk for p in expected]
    cards = page.locator("li.proposal")
    expect(cards).to_have_count(8)
    expect(cards.first).to_have_attribute("data-id", str(expected[0].pk))
    assert [int(i) for i in cards.evaluate_all("nodes => nodes.map(n => n.dataset.id)")] == [
        p.pk for p in expected
    ]
    page.reload()
    expect(cards.first).to_have_attribute("data-id", str(expected[0].pk))


def _digits_in_text_and_attributes(locator):
    """Every digit in the text and attribute values (but data-id) under `locator`: a count would show."""
    values = locator.evaluate(
        """root => [root.textContent, ...[...root.querySelectorAll("*")].flatMap(
            node => [...node.attributes].filter(a => a.name !== "data-id").map(a => a.value))]"""
    )
    return [value for value in values if re.search(r"\d", value)]


def test_stacked_dots_use_a_stepper_capped_per_proposal(transactional_db, phone):
    event = factories.make_event(votes_per_attendee=5, max_dots_per_proposal=3)
    (proposal,) = factories.make_proposals(event, 1)
    page = open_phone(phone, event)
    plus = page.get_by_role("button", name=re.compile("^Add a dot to"))
    minus = page.get_by_role("button", name=re.compile("^Take a dot back from"))
    expect(minus).to_be_disabled()

    for _ in range(3):
        plus.click()

    expect(page.locator(".step-count")).to_have_text("3")
    expect(plus).to_be_disabled()
    expect(page.locator("#meter-text")).to_have_text("2 of 5 dots left")
    expect(page.locator(".proposal-sync")).to_have_text("Saved")
    minus.click()
    expect(page.locator(".step-count")).to_have_text("2")
    expect(page.locator(".proposal-sync")).to_have_text("Saved")
    assert list(Vote.objects.values_list("proposal_id", "dots")) == [(proposal.pk, 2)]


def test_closing_voting_disables_the_buttons_and_says_why(transactional_db, phone):
    event = factories.make_event()
    factories.make_proposals(event, 2)
    page = open_phone(phone, event)
    page.get_by_role("button", name=re.compile("^Vote for")).first.click()
    expect(page.locator(".proposal-sync").first).to_have_text("Saved")

    event_services.update_event(event=event, changes={"voting_open": False})

    expect(page.locator("#reason")).to_have_text("Voting is closed.", timeout=LIVE)
    for button in page.locator(".dot-toggle").all():
        expect(button).to_be_disabled()


def test_countdown_follows_the_server_clock_not_the_phone_clock(transactional_db, phone):
    event = factories.make_event(voting_closes_at=timezone.now() + timedelta(minutes=30))
    page = phone()
    # The phone's clock is three hours behind: trusting it would show 3:30:00.
    page.clock.install(time=timezone.now() - timedelta(hours=3))
    page.goto(f"/e/{event.slug}/join?code={event.join_code}")

    expect(page.locator("#phase")).to_have_text(re.compile(r"^Closes in (30:00|29:[0-5]\d)$"), timeout=LIVE)


HOSTILE_TITLES = [
    "<script>alert('owned')</script>",
    '<img src=x onerror="alert(1)">',
    "\u202eevil reversed title",
    "😀" * 120,
]


def test_hostile_titles_are_inert_text_that_stays_inside_its_card(transactional_db, phone):
    event = factories.make_event()
    author, client, _token = factories.join(event)
    for title in HOSTILE_TITLES:
        response = client.post(
            f"/api/events/{event.slug}/proposals",
            {"title": title, "description": title, "host_name": title[:80]},
            format="json",
        )
        assert response.status_code == 201, response.content
    page = phone()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/e/{event.slug}/join?code={event.join_code}")

    expect(page.locator("li.proposal")).to_have_count(4)
    assert page.locator("#list script, #list img").count() == 0
    titles = page.locator("li.proposal .proposal-title > span[dir]").all_text_contents()
    assert sorted(titles) == sorted(HOSTILE_TITLES)
    for proposal in Proposal.objects.filter(event=event):
        box = card_by_id(page, proposal).bounding_box()
        for part in (".proposal-title", ".proposal-host", ".proposal-desc", ".vote"):
            inner = card_by_id(page, proposal).locator(part).bounding_box()
            assert inner["x"] >= box["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"] + 0.5, (
                part
            )
            assert (
                inner["y"] >= box["y"] and inner["y"] + inner["height"] <= box["y"] + box["height"] + 0.5
            ), part
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert dialogs == []


def publish_schedule(event, proposals):
    """Two rooms, two slots; proposals[0] and [1] share the first slot, [2] is in the second."""
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    big = Room.objects.create(event=event, name="Main hall", capacity=200)
    small = Room.objects.create(event=event, name="Room B", capacity=30)
    morning = Slot.objects.create(event=event, starts_at=start, ends_at=start + timedelta(minutes=45))
    later = Slot.objects.create(
        event=event, starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=1, minutes=45)
    )
    for proposal, room, slot in [
        (proposals[0], big, morning),
        (proposals[1], small, morning),
        (proposals[2], big, later),
    ]:
        ScheduledSession.objects.create(event=event, proposal=proposal, room=room, slot=slot)
    event_services.update_event(event=event, changes={"schedule_published": True, "voting_open": False})


def test_a_german_phone_gets_the_page_in_german(transactional_db, phone):
    event = factories.make_event(voting_open=True)
    proposal_services.submit_proposal(event=event, author=None, title="Rust für Pythonistas")
    page = open_phone(phone, event, locale="de-DE")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("tab", name="Vorschlagen")).to_be_visible()
    expect(
        card(page, "Rust für Pythonistas").get_by_role("button", name="Für „Rust für Pythonistas“ abstimmen")
    ).to_be_visible()
    page.get_by_role("button", name="Wechseln").scroll_into_view_if_needed()
    page.get_by_label("Sprache").select_option("es")
    page.get_by_role("button", name="Wechseln").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("tab", name="Proponer")).to_be_visible()
