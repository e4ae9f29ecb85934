"""Hosts in Chromium: a co-host invite link, "I can't host then", constraints in the schedule
editor, and times in the event's zone whatever the device's."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import screenshot, serious_accessibility_issues, watch_errors
from tests.browser.test_phone import LIVE, open_phone
from tests.browser.test_schedule_console import cell, signed_in
from voting.models import CoHost, Event, Room, ScheduledSession, Slot, Unavailability
from voting.proposals import services as proposal_services
from voting.schedule import hosts

pytestmark = pytest.mark.usefixtures("transactional_db")

HOSTILE = '<img src=x onerror="alert(1)"> Soldering'
UTC = dt.UTC


def tokyo_slots(event, count):
    """Slots at 10:00, 11:00, … Tokyo time (01:00 UTC on)."""
    return [
        Slot.objects.create(
            event=event,
            starts_at=dt.datetime(2030, 5, 1, 1 + i, 0, tzinfo=UTC),
            ends_at=dt.datetime(2030, 5, 1, 1 + i, 45, tzinfo=UTC),
        )
        for i in range(count)
    ]


def test_a_cohost_joins_by_link_and_says_when_they_cannot_host(phone, tmp_path):
    event = factories.make_event(time_zone="Asia/Tokyo")
    first, second = tokyo_slots(event, 2)
    # Phones in New York: the times are still Tokyo's, as on the projector and the paper.
    author = open_phone(phone, event, timezone_id="America/New_York")
    author.get_by_role("tab", name="Propose").click()
    author.get_by_label("Title").fill(HOSTILE)
    author.get_by_role("button", name="Propose session").click()
    expect(author.locator("#own .own-title")).to_have_text([HOSTILE])
    author.reload()
    author.get_by_role("tab", name="Propose").click()
    author.locator("#hosting").get_by_role("button", name=re.compile("^Invite a co-host")).click()
    link = author.locator(".hosting-link").input_value()
    assert re.fullmatch(rf".*/e/{event.slug}/\?cohost=[A-Z0-9]+", link)

    cohost = open_phone(phone, event, timezone_id="America/New_York")
    cohost.goto(link)
    expect(cohost.locator("#toast")).to_have_text(f"You now co-host “{HOSTILE}”.", timeout=LIVE)
    assert "cohost=" not in cohost.url
    cohost.get_by_role("tab", name="Propose").click()
    expect(cohost.locator("#hosting .own-title")).to_have_text([HOSTILE])
    expect(cohost.locator("#hosting .hosting-slots label")).to_have_text(
        [re.compile(r"10:00"), re.compile(r"11:00")]
    )
    cohost.locator("#hosting .hosting-slots").get_by_label(re.compile("11:00")).check()
    expect(cohost.locator("#toast")).to_have_text("Saved: your sessions stay out of the slots you ticked.")

    joined = CoHost.objects.get()
    assert joined.proposal.title == HOSTILE
    assert list(Unavailability.objects.values_list("attendee_id", "slot_id")) == [
        (joined.attendee_id, second.pk)
    ]
    assert cohost.locator("#hosting img").count() == 0
    screenshot(cohost, "phone-hosting", tmp_path, full_page=True)
    assert serious_accessibility_issues(cohost) == []
    assert Unavailability.objects.filter(slot=first).count() == 0


def test_the_editor_flags_a_pinned_breach_and_shows_where_a_carried_session_may_not_go(
    server, desktop, organizer, tmp_path
):
    event = factories.make_event(organizer, name="Sunday Unconf")
    host, _, _ = factories.join(event)
    soldering = proposal_services.submit_proposal(event=event, author=host, title="Soldering for beginners")
    phones = proposal_services.submit_proposal(event=event, author=host, title="Repairing phones")
    other = proposal_services.submit_proposal(event=event, author=None, title="Gardening with sensors")
    hall = Room.objects.create(event=event, name="Main hall", capacity=120)
    nook = Room.objects.create(event=event, name="Nook", capacity=20)
    morning, noon = [
        Slot.objects.create(
            event=event,
            starts_at=dt.datetime(2030, 5, 1, 10 + 2 * i, 0, tzinfo=UTC),
            ends_at=dt.datetime(2030, 5, 1, 10 + 2 * i, 45, tzinfo=UTC),
            label=label,
        )
        for i, label in enumerate(["Morning", "Noon"])
    ]
    hosts.set_unavailable_slots(attendee=host, slot_ids=[noon.pk])
    ScheduledSession.objects.create(event=event, proposal=soldering, room=hall, slot=morning, pinned=True)
    ScheduledSession.objects.create(event=event, proposal=phones, room=nook, slot=morning, pinned=True)
    ScheduledSession.objects.create(event=event, proposal=other, room=hall, slot=noon)
    page = desktop(1440, 1000)
    watch_errors(page)
    signed_in(page, server, organizer)

    page.goto(f"/e/{event.slug}/organize/schedule/")

    expect(page.locator("#sc-conflicts .sc-conflict")).to_have_text(
        [
            f"'Soldering for beginners' and 'Repairing phones' overlap at Morning and share host {host.public_id}."
        ]
    )
    expect(page.locator(f'[data-key="card-{soldering.pk}"] .sc-badge-conflict')).to_have_text(
        "Breaks a constraint"
    )
    page.locator(f'[data-key="card-{other.pk}"]').focus()
    page.keyboard.press("Space")
    expect(page.locator("td.sc-cell-blocked")).to_have_count(0)  # Gardening has no host constraint
    page.keyboard.press("Escape")
    page.locator(f'[data-key="card-{phones.pk}"]').focus()
    page.keyboard.press("Space")
    expect(cell(page, hall.pk, noon.pk)).to_have_class(re.compile("sc-cell-blocked"))
    expect(cell(page, hall.pk, noon.pk)).to_have_attribute(
        "data-blocked", f"Host {host.public_id} cannot host at Noon."
    )
    expect(cell(page, hall.pk, morning.pk)).to_have_attribute(
        "data-blocked", f"Host {host.public_id} is in 'Soldering for beginners' then."
    )
    screenshot(page, "schedule-console-constraints", tmp_path)
    page.keyboard.press("Escape")
    expect(page.locator("td.sc-cell-blocked")).to_have_count(0)

    # Generating honours the pins and still reports the breach; the free session avoids Noon's host rule.
    page.get_by_role("button", name="Regenerate around pins").click()
    expect(page.locator("#sc-message")).to_contain_text("Schedule generated: 3 sessions")
    expect(page.locator("#sc-conflicts .sc-conflict")).to_have_count(1)
    assert page.errors == []


def test_the_stage_shows_times_in_the_event_zone_whatever_the_projector_laptop_says(server, desktop):
    event = factories.make_event(time_zone="Asia/Tokyo", voting_open=False)
    [proposal] = [proposal_services.submit_proposal(event=event, author=None, title="Mapping the wifi")]
    [slot] = tokyo_slots(event, 1)
    room = Room.objects.create(event=event, name="Main hall", capacity=100)
    ScheduledSession.objects.create(event=event, proposal=proposal, room=room, slot=slot)
    Event.objects.filter(pk=event.pk).update(schedule_published=True)
    page = desktop(1280, 720, timezone_id="Europe/Berlin")
    watch_errors(page)

    page.goto(f"/e/{event.slug}/stage/")

    expect(page.locator(".schedule-time").first).to_have_text(re.compile(r"^10:00"))
    page.goto(f"/e/{event.slug}/schedule/")
    expect(page.locator("time").first).to_have_text(re.compile(r"10:00–10:45"))
    assert page.errors == []
