"""Screenshots of the main phone screens, for docs/ and for a human look.

They go to a temporary folder; `make screenshots` (UNCONF_SCREENSHOTS=1) replaces docs/*.png.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import screenshot
from tests.browser.test_phone import card_by_id, open_phone, publish_schedule
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

SESSIONS = [
    ("Rust for Pythonistas", "Ana", "PyO3 and maturin, hands on. Bring a laptop with Rust installed."),
    ("Testing Django against real PostgreSQL", "Ben", "Why SQLite in tests hides the bugs you ship."),
    ("Type hints: how far is too far?", "Chen", "An open discussion. Bring your war stories."),
    ("Async Django in production", "Dee", "What broke, what we measured, what we would do again."),
    ("Packaging in 2026", "Eli", "uv, wheels, and the state of the lock file."),
    ("First-time speakers' circle", "Fay", "Practice a 5-minute talk, get kind feedback."),
]


@pytest.fixture
def shots(tmp_path):
    def shoot(page, name):
        page.wait_for_timeout(350)  # let transitions settle
        screenshot(page, f"phone-{name}", tmp_path)

    return shoot


def test_main_phone_screens(transactional_db, phone, shots):
    event = factories.make_event(
        name="PyCon Unconference 2026", voting_closes_at=timezone.now() + timedelta(minutes=12, seconds=30)
    )
    proposals = [
        proposal_services.submit_proposal(
            event=event, author=None, title=title, host_name=host, description=text
        )
        for title, host, text in SESSIONS
    ]
    for dots in ([0, 1, 2, 3], [1, 3], [0, 1, 4], [1], [1, 2]):
        attendee, _client, _token = factories.join(event)
        for index in dots:
            vote_services.set_dots(attendee=attendee, proposal_id=proposals[index].pk, dots=1)

    joining = phone()
    joining.goto(f"/e/{event.slug}/join")
    joining.get_by_label("Event code").fill(event.join_code)
    joining.get_by_label("Your name").fill("Grace")
    shots(joining, "join")

    page = open_phone(phone, event)
    for proposal in (proposals[0], proposals[3]):
        card_by_id(page, proposal).get_by_role("button", name=re.compile("^Vote for")).click()
        expect(card_by_id(page, proposal).locator(".proposal-sync")).to_have_text("Saved")
    card_by_id(page, proposals[4]).get_by_role("button", name=re.compile("^Vote for")).click()
    expect(card_by_id(page, proposals[4]).locator(".proposal-sync")).to_have_text("Saved")
    page.evaluate("window.scrollTo(0, 0)")
    shots(page, "vote")

    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Title").press_sequentially("Rust for Python devs", delay=10)
    page.get_by_label("Description").fill("Let's write a Python extension in Rust together.")
    expect(page.locator("#similar")).to_be_visible()
    shots(page, "propose")

    page.get_by_role("tab", name="Vote").click()
    page.context.set_offline(True)
    card_by_id(page, proposals[4]).get_by_role("button", name=re.compile("^Voted for")).click()
    card_by_id(page, proposals[2]).get_by_role("button", name=re.compile("^Vote for")).click()
    card_by_id(page, proposals[2]).scroll_into_view_if_needed()
    expect(page.locator("#sync-note")).to_have_text("2 votes waiting for the connection")
    shots(page, "offline")
    page.context.set_offline(False)
    expect(card_by_id(page, proposals[2]).locator(".proposal-sync")).to_have_text("Saved", timeout=5000)

    publish_schedule(event, [proposals[0], proposals[2], proposals[3]])
    expect(page.locator("#schedule-badge")).to_be_visible(timeout=5000)
    page.get_by_role("tab", name=re.compile("My schedule")).click()
    expect(page.locator("#my-schedule .pick")).to_have_count(3)
    shots(page, "schedule")
