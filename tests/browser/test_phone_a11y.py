"""axe-core on the attendee pages at phone size: no serious or critical accessibility issue."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_phone import card_by_id, open_phone, publish_schedule
from voting.events import services as event_services
from voting.proposals import services as proposal_services

pytestmark = pytest.mark.usefixtures("transactional_db")

BLOCKING = {"serious", "critical"}


def blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def test_home_and_join_pages_have_no_serious_accessibility_issue(phone, organizer):
    event = factories.make_event(organizer, identity_mode="badge")
    page = phone()

    page.goto("/")
    home = blocking_violations(page)
    page.goto("/?code=WRONG1")
    home_error = blocking_violations(page)
    page.goto(f"/e/{event.slug}/join?code={event.join_code}")
    join = blocking_violations(page)
    page.goto(f"/e/{event.slug}/join?code=WRONGBADGE")
    join_error = blocking_violations(page)

    assert (home, home_error, join, join_error) == ([], [], [], [])


def test_event_page_tabs_have_no_serious_accessibility_issue(phone, desktop):
    event = factories.make_event(votes_per_attendee=2)
    proposals = [
        proposal_services.submit_proposal(
            event=event, author=None, title=title, host_name="Sam", description="Bring ideas."
        )
        for title in ("Async Django", "Testing with Postgres", "Type hints")
    ]
    page = open_phone(phone, event)
    for proposal in proposals[:2]:
        card_by_id(page, proposal).get_by_role("button", name=re.compile("^Vote for")).click()
        expect(card_by_id(page, proposal).locator(".proposal-sync")).to_have_text("Saved")
    expect(page.locator("#reason")).to_be_visible()
    vote = blocking_violations(page)

    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Title").press_sequentially("Async django", delay=10)
    expect(page.locator("#similar")).to_be_visible()
    propose = blocking_violations(page)

    publish_schedule(event, proposals)
    expect(page.locator("#schedule-badge")).to_be_visible(timeout=5000)
    page.get_by_role("tab", name=re.compile("My schedule")).click()
    expect(page.locator("#my-schedule .pick")).to_have_count(2)
    schedule = blocking_violations(page)

    page.get_by_role("link", name="See the full schedule").click()
    expect(page.locator(".session:not(.is-free)")).to_have_count(3)
    full_schedule = blocking_violations(page)
    wide = desktop()
    wide.goto(f"/e/{event.slug}/schedule/")
    expect(wide.locator(".session.is-free")).to_be_visible()
    wide_schedule = blocking_violations(wide)

    assert (vote, propose, schedule, full_schedule, wide_schedule) == ([], [], [], [], [])


def test_stepper_and_closed_voting_have_no_serious_accessibility_issue(phone):
    event = factories.make_event(max_dots_per_proposal=3, tally_visibility="blind", accepting_proposals=False)
    first, _ = factories.make_proposals(event, 2)
    page = open_phone(phone, event)
    # By card, not by position: while counts are hidden the order is a per-phone shuffle that
    # may settle (WebCrypto is async) just after the first render.
    card = card_by_id(page, first)
    card.get_by_role("button", name=re.compile("^Add a dot to")).click()
    expect(card.locator(".proposal-sync")).to_have_text("Saved")
    event_services.update_event(event=event, changes={"voting_open": False})
    expect(page.locator("#reason")).to_have_text("Voting is closed.", timeout=5000)
    vote = blocking_violations(page)

    page.get_by_role("tab", name="Propose").click()
    propose_closed = blocking_violations(page)

    assert (vote, propose_closed) == ([], [])
