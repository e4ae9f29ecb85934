"""The phone at 390×844 during voting and during the sessions: the list never moves under the
finger, ties shown as ties, a merged card that fits and names its target, a toast that hides
no Vote button; "next for you", stars, one-tap check-in and the notes of the session you are in."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import screenshot, serious_accessibility_issues
from tests.browser.test_phone import LIVE, _no_script_errors, card_by_id, open_phone  # noqa: F401
from voting.events import services as event_services
from voting.models import NoteRevision, Room, ScheduledSession, Slot, Star
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

PHONE_390 = {"viewport": {"width": 390, "height": 844}}


def boxes_overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_list_holds_still_under_the_finger_and_offers_the_new_ranking(transactional_db, phone):
    event = factories.make_event()
    first, second, third = factories.make_proposals(event, 3)
    page = open_phone(phone, event, **PHONE_390)
    expect(page.locator("li.proposal")).to_have_count(3)
    before = [card_by_id(page, p).bounding_box()["y"] for p in (first, second, third)]

    page.mouse.move(200, 500)
    page.mouse.wheel(0, 1)  # the user starts scrolling: from here on the order holds
    for _ in range(2):
        someone = factories.join(event)[0]
        vote_services.set_dots(attendee=someone, proposal_id=third.pk, dots=1)

    expect(page.get_by_role("button", name="New ranking — tap to update")).to_be_visible(timeout=LIVE)
    expect(card_by_id(page, third).locator(".rank")).to_have_text("1")
    after = [card_by_id(page, p).bounding_box()["y"] for p in (first, second, third)]
    assert after == before
    page.get_by_role("button", name="New ranking — tap to update").click()
    expect(page.locator("li.proposal").first).to_have_attribute("data-id", str(third.pk))
    expect(page.get_by_role("button", name="New ranking — tap to update")).to_be_hidden()


def test_equal_dots_and_voters_are_shown_as_a_tie(transactional_db, phone):
    event = factories.make_event()
    a, b, c = factories.make_proposals(event, 3)
    for proposal in (a, b):
        vote_services.set_dots(attendee=factories.join(event)[0], proposal_id=proposal.pk, dots=1)

    page = open_phone(phone, event, **PHONE_390)

    expect(page.locator("li.proposal .rank")).to_have_text(["=1", "=1", ""])
    expect(card_by_id(page, a).get_by_role("heading")).to_contain_text("Rank 1, tied")


def test_a_merged_proposal_says_where_it_went_and_fits_the_screen(transactional_db, phone):
    event = factories.make_event()
    target = proposal_services.submit_proposal(
        event=event, author=None, title="Rust for Pythonistas, an introduction"
    )
    page = open_phone(phone, event, **PHONE_390)
    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Title").fill("Rust for Python people who want to go faster without leaving Python")
    page.get_by_role("button", name="Propose session").click()
    expect(page.locator("#own .own-title")).to_have_count(1)
    mine = event.proposals.exclude(pk=target.pk).get()

    proposal_services.merge_proposals(source=mine, target=target)

    merged = page.locator("#own .own.is-merged")
    expect(merged.locator(".own-merged")).to_have_text(
        "Merged into “Rust for Pythonistas, an introduction”", timeout=LIVE
    )
    box = merged.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_issues(page) == []


def test_the_proposed_toast_covers_no_vote_button(transactional_db, phone):
    event = factories.make_event()
    factories.make_proposals(event, 6)
    page = open_phone(phone, event, **PHONE_390)
    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Title").fill("A brand new session")
    page.get_by_role("button", name="Propose session").click()
    page.get_by_role("tab", name="Vote").click()
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")

    toast = page.locator("#toast")
    expect(toast).to_have_text("Proposed! It is on the list.")
    toast_box = toast.bounding_box()
    header = page.locator(".topbar").bounding_box()
    buttons = page.locator("li.proposal .dot-toggle")
    expect(buttons).to_have_count(7)
    # The buttons one can see (below the sticky header): the last card's is among them.
    visible = [buttons.nth(i).bounding_box() for i in range(7)]
    visible = [
        box
        for box in visible
        if box["y"] >= header["y"] + header["height"] and box["y"] + box["height"] <= 844
    ]
    assert visible[-1] == buttons.nth(6).bounding_box()
    assert [box for box in visible if boxes_overlap(toast_box, box)] == []


def running_schedule(event):
    """Published: Hall and Room A (with directions), a slot running now and one in 30 minutes."""
    hall = Room.objects.create(event=event, name="Hall", capacity=100)
    room_a = Room.objects.create(
        event=event, name="Room A", capacity=20, directions="1st floor, left of the stairs"
    )
    now = timezone.now()
    running = Slot.objects.create(
        event=event, starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(minutes=35)
    )
    later = Slot.objects.create(
        event=event, starts_at=now + timedelta(minutes=45), ends_at=now + timedelta(minutes=90)
    )
    titles = [
        ("Open source funding", hall, running),
        ("Type hints", room_a, running),
        ("Packaging", room_a, later),
    ]
    proposals = []
    for title, room, slot in titles:
        proposal = proposal_services.submit_proposal(
            event=event, author=None, title=title, host_name="Someone"
        )
        ScheduledSession.objects.create(event=event, proposal=proposal, room=room, slot=slot)
        proposals.append(proposal)
    event_services.update_event(event=event, changes={"voting_open": False, "schedule_published": True})
    return proposals


def test_a_late_arrival_stars_checks_in_and_takes_notes(transactional_db, phone, tmp_path):
    event = factories.make_event()
    funding, hints, packaging = running_schedule(event)
    page = open_phone(phone, event, **PHONE_390)
    expect(page.locator("#next-banner")).to_be_hidden()  # never voted, nothing starred yet
    page.get_by_role("tab", name="My schedule").click()

    page.get_by_role("button", name="Star “Packaging”").click()
    next_card = page.locator(".next-card")
    expect(next_card.locator(".next-title")).to_have_text("Packaging")
    expect(next_card.locator(".next-room")).to_have_text("Room A")
    expect(next_card.locator(".next-directions")).to_have_text("1st floor, left of the stairs")
    page.get_by_role("button", name="Check in to “Type hints”").click()
    expect(next_card.locator(".next-heading")).to_have_text("You are in")
    expect(next_card.locator(".next-title")).to_have_text("Type hints")
    page.get_by_role("button", name="Check in to “Open source funding”").click()  # the law of two feet
    expect(next_card.get_by_role("button", name="Leave “Open source funding”")).to_be_visible()
    notes = page.get_by_label("Notes", exact=True)
    expect(notes).to_be_enabled()
    notes.fill("- fund maintainers\n- ask sponsors")
    page.get_by_role("button", name="Save notes").click()
    expect(page.locator(".notes-status")).to_contain_text("Revision 1")
    screenshot(page, "phone-sessions", tmp_path, full_page=True)
    assert serious_accessibility_issues(page) == []
    page.get_by_role("tab", name="Vote").click()

    expect(page.locator("#next-banner")).to_contain_text("Open source funding")
    assert list(Star.objects.values_list("proposal_id", flat=True)) == [packaging.pk]
    assert list(NoteRevision.objects.values_list("proposal_id", "revision", "text")) == [
        (funding.pk, 1, "- fund maintainers\n- ask sponsors")
    ]
    assert list(funding.checkins.filter(left_at__isnull=True).values_list("proposal_id", flat=True)) == [
        funding.pk
    ]
    assert hints.checkins.filter(left_at__isnull=True).count() == 0
