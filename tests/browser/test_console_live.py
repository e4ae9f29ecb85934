"""The organizer console during and after the sessions (contract 5.2, 6): connected stages and a
warning when the projector drops, the stage view and an announcement, occupancy with a one-click
move pushed to every screen, the phase card's next step, publishing the proceedings."""

from playwright.sync_api import expect

from tests import factories
from tests.browser.support import call, screenshot, serious_accessibility_issues
from tests.browser.test_console import open_console
from tests.browser.test_phone_live import running_schedule
from tests.browser.test_stage import LIVE_MS, open_stage, vote
from voting.day import services as day_services
from voting.events import services as event_services
from voting.models import Room, ScheduledSession
from voting.proposals import services as proposal_services


def test_the_console_counts_connected_stages_and_warns_when_the_projector_drops(
    transactional_db, server, desktop
):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    console = open_console(desktop, server, organizer, event)
    expect(console.locator("#screens")).to_have_text("No stage connected")

    stage = open_stage(desktop, event, 1920, 1080)
    expect(console.locator("#screens")).to_have_text("1 stage connected", timeout=LIVE_MS)
    expect(console.locator("#screens-dropped")).to_be_hidden()
    stage.context.close()

    expect(console.locator("#screens")).to_have_text("No stage connected", timeout=LIVE_MS)
    expect(console.locator("#screens-dropped")).to_be_visible()


def test_organizers_put_an_announcement_on_the_stage(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    stage = open_stage(desktop, event, 1920, 1080)
    console = open_console(desktop, server, organizer, event)

    console.get_by_label("The stage shows").select_option("announcement")
    console.get_by_label("Announcement").fill("Lunch is served in the foyer")
    console.get_by_role("button", name="Show on the stage").click()

    expect(stage.locator("#announcement-text")).to_have_text("Lunch is served in the foyer", timeout=LIVE_MS)
    console.get_by_label("The stage shows").select_option("auto")
    console.get_by_role("button", name="Show on the stage").click()
    expect(stage.locator("#view-announcement")).to_be_hidden(timeout=LIVE_MS)


def test_an_overflowing_room_is_moved_in_one_click_and_every_screen_follows(
    transactional_db, server, desktop, tmp_path
):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    funding, hints, packaging = running_schedule(event)
    event.refresh_from_db()
    ScheduledSession.objects.filter(proposal=funding).update(
        room=Room.objects.create(event=event, name="Attic", capacity=5)
    )
    for _ in range(3):
        day_services.check_in(event=event, attendee=factories.join(event)[0], proposal_id=hints.pk)
    Room.objects.filter(name="Room A").update(capacity=2)
    event_services.update_event(event=event, changes={"stage_view": "now"})
    stage = open_stage(desktop, event, 1920, 1080)
    console = open_console(desktop, server, organizer, event)

    over = console.locator(".occupancy-row.is-over")
    expect(over.locator(".occupancy-title")).to_have_text("Type hints")
    expect(over.locator(".occupancy-count")).to_have_text("3 / 2")
    console.locator("#sessions-live-title").scroll_into_view_if_needed()
    screenshot(console, "console-sessions", tmp_path)
    assert serious_accessibility_issues(console) == []
    over.get_by_role("button", name="Move to Hall").click()

    expect(console.locator(".occupancy-row.is-over")).to_have_count(0, timeout=LIVE_MS)
    hall_card = stage.locator("#now-cards .now-card", has_text="Type hints")
    expect(hall_card.locator(".now-room")).to_have_text("Hall", timeout=LIVE_MS)
    assert ScheduledSession.objects.get(proposal=hints).room.name == "Hall"


def test_after_a_reveal_the_phase_card_leads_to_the_schedule_not_to_open_voting(
    transactional_db, server, desktop
):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, tally_visibility="blind")
    proposal = proposal_services.submit_proposal(event=event, author=None, title="Alpha")
    vote(server, event, factories.join(event)[2], proposal)
    event_services.update_event(event=event, changes={"voting_open": False})
    console = open_console(desktop, server, organizer, event)
    expect(console.locator("#next-step-text")).to_have_text("Next: reveal the results.")
    expect(console.locator("#btn-reveal")).to_have_class("btn btn-primary")

    call(server, "PATCH", f"/api/events/{event.slug}", {"results_revealed": True}, organizer=organizer)

    expect(console.locator("#next-step-text")).to_have_text(
        "Next: build and publish the schedule.", timeout=LIVE_MS
    )
    expect(console.get_by_role("link", name="Build the schedule")).to_have_attribute(
        "href", f"/e/{event.slug}/organize/schedule/"
    )
    expect(console.locator("#btn-open-voting")).to_have_class("btn")


def test_organizers_publish_the_proceedings_from_the_console(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    running_schedule(event)
    console = open_console(desktop, server, organizer, event)
    expect(console.locator("#next-step-text")).to_contain_text("publish the proceedings")

    console.get_by_role("button", name="Publish the proceedings").click()

    expect(console.locator("#proceedings-state")).to_have_text(
        "Published: everyone can read the proceedings."
    )
    expect(console.locator("#next-step-text")).to_have_text("The proceedings are published.", timeout=LIVE_MS)
    page = console.context.browser.new_page(base_url=server.url)
    page.goto(f"/e/{event.slug}/proceedings/")
    expect(page.get_by_role("heading", name="Open source funding")).to_be_visible()
    page.close()
