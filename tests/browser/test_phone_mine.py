"""What is the attendee's own: proposals to edit, withdraw or wait for approval, and my schedule."""

import re

from playwright.sync_api import expect

from tests import factories
from tests.browser.test_phone import (  # noqa: F401 (autouse fixtures)
    LIVE,
    _no_script_errors,
    card_by_id,
    open_phone,
    publish_schedule,
)
from voting.models import Proposal
from voting.proposals import services as proposal_services


def test_author_edits_and_withdraws_their_proposal(transactional_db, phone):
    event = factories.make_event()
    page = open_phone(phone, event)
    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Title").fill("Pytest tips")
    page.get_by_role("button", name="Propose session").click()
    expect(page.locator("#own .own-title")).to_have_text(["Pytest tips"])

    page.locator("#own").get_by_role("button", name="Edit “Pytest tips”").click()
    expect(page.get_by_role("heading", name="Edit your proposal")).to_be_visible()
    page.get_by_label("Title").fill("Pytest tips and tricks")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator("#toast")).to_have_text("Changes saved.")
    expect(page.locator("#own .own-title")).to_have_text(["Pytest tips and tricks"])
    page.locator("#own").get_by_role("button", name="Withdraw “Pytest tips and tricks”").click()
    page.locator("#confirm").get_by_role("button", name="Withdraw").click()
    expect(page.locator("#toast")).to_have_text("Proposal withdrawn. Its dots went back to the voters.")
    expect(page.locator("#own .own-title")).to_have_count(0)
    page.get_by_role("tab", name="Vote").click()
    expect(page.locator("li.proposal")).to_have_count(0)
    assert list(Proposal.objects.values_list("title", "status")) == [("Pytest tips and tricks", "withdrawn")]


def test_my_schedule_lists_my_picks_with_room_and_time_and_flags_a_clash(transactional_db, phone):
    event = factories.make_event()
    proposals = [
        proposal_services.submit_proposal(event=event, author=None, title=title)
        for title in ("Async Django", "Testing with Postgres", "Type hints")
    ]
    page = open_phone(phone, event)
    for proposal in proposals[:2]:
        card_by_id(page, proposal).get_by_role("button", name=re.compile("^Vote for")).click()
        expect(card_by_id(page, proposal).locator(".proposal-sync")).to_have_text("Saved")

    publish_schedule(event, proposals)

    expect(page.locator("#schedule-badge")).to_be_visible(timeout=LIVE)
    page.get_by_role("tab", name=re.compile("My schedule")).click()
    expect(page.locator("#my-schedule .pick-title")).to_have_text(["Async Django", "Testing with Postgres"])
    expect(page.locator("#my-schedule .pick-room")).to_have_text(["Main hall", "Room B"])
    expect(page.locator("#my-schedule .pick-time time").first).to_have_text(
        re.compile(r"^\d\d?:\d\d( [AP]M)?–\d\d?:\d\d( [AP]M)?$")
    )
    expect(page.locator("#my-schedule .alert-warn")).to_have_text(
        "Clash: 2 of your picks run at the same time. Choose one."
    )

    page.get_by_role("link", name="See the full schedule").click()
    expect(page.locator(".session.is-mine .session-title")).to_have_text(
        ["Async Django", "Testing with Postgres"]
    )
    expect(page.locator(".session:not(.is-mine, .is-free) .session-title")).to_have_text(["Type hints"])
    expect(page.locator(".slot.has-clash .tag-warn")).to_have_text(["Clash"])


def test_a_proposal_awaiting_approval_shows_as_mine_and_joins_the_list_once_approved(transactional_db, phone):
    event = factories.make_event(moderation="pre")
    page = open_phone(phone, event)
    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Title").fill("Lightning talks")
    page.get_by_role("button", name="Propose session").click()

    expect(page.locator("#toast")).to_have_text("Sent! It appears once an organizer approves it.")
    expect(page.locator("#own .own")).to_have_text(re.compile("Lightning talks.*Waiting for approval"))
    proposal = Proposal.objects.get()
    proposal_services.edit_proposal(proposal=proposal, changes={"status": "published"}, by_organizer=True)

    expect(page.locator("#own .own")).to_have_text(re.compile("Lightning talks.*On the list"), timeout=LIVE)
    page.get_by_role("tab", name="Vote").click()
    expect(card_by_id(page, proposal).locator(".tag-mine")).to_have_text("Your proposal")
