"""The phone on flaky Wi-Fi: offline votes across a reload, refusals on replay, a dropped feed,
no websockets at all, and a badge that moved to another phone."""

import re

from playwright.sync_api import expect

from tests import factories
from tests.browser.test_phone import (  # noqa: F401 (autouse fixtures)
    LIVE,
    _no_script_errors,
    card_by_id,
    open_phone,
)
from voting.events import services as event_services
from voting.models import Vote


def test_a_vote_made_offline_survives_a_reload_and_is_saved_when_back_online(transactional_db, phone):
    event = factories.make_event()
    proposal, other = factories.make_proposals(event, 2)
    page = open_phone(phone, event)
    # The service worker has a copy of the page and its files: an offline reload still opens it.
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1", timeout=LIVE)

    page.context.set_offline(True)
    card_by_id(page, proposal).get_by_role("button", name=re.compile("^Vote for")).click()

    sync = card_by_id(page, proposal).locator(".proposal-sync")
    expect(sync).to_have_text("Pending: will be sent when you are back online")
    expect(page.locator("#conn-text")).to_have_text("Offline")
    expect(page.locator("#sync-note")).to_have_text("1 vote waiting for the connection")
    assert Vote.objects.count() == 0
    page.reload()
    # (No database check here: Chromium's offline emulation sometimes lets a request of a page
    # that is just loading through. Were that to happen, the PUT is simply replayed later.)
    expect(sync).to_have_text("Pending: will be sent when you are back online")
    expect(page.locator("#meter-text")).to_have_text("4 of 5 dots left")

    page.context.set_offline(False)

    expect(sync).to_have_text("Saved", timeout=LIVE)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE)
    assert list(Vote.objects.values_list("proposal_id", "dots")) == [(proposal.pk, 1)]
    assert page.evaluate(f"localStorage.getItem('unconf:{event.slug}:pending')") is None


def test_an_offline_vote_refused_on_replay_says_why_and_corrects_the_meter(transactional_db, phone):
    event = factories.make_event()
    (proposal,) = factories.make_proposals(event, 1)
    page = open_phone(phone, event)
    page.context.set_offline(True)
    page.get_by_role("button", name=re.compile("^Vote for")).click()
    expect(page.locator(".proposal-sync")).to_have_text("Pending: will be sent when you are back online")
    expect(page.locator("#meter-text")).to_have_text("4 of 5 dots left")
    event_services.update_event(event=event, changes={"voting_open": False})

    page.context.set_offline(False)

    expect(page.locator(".proposal-sync")).to_have_text("Not saved: Voting is closed.", timeout=LIVE)
    expect(page.locator("#meter-text")).to_have_text("5 of 5 dots left")
    expect(page.locator("#reason")).to_have_text("Voting is closed.", timeout=LIVE)
    assert Vote.objects.count() == 0


def test_a_phone_whose_badge_moved_to_another_phone_is_told_it_was_signed_out(transactional_db, phone):
    event = factories.make_event(identity_mode="badge")
    (badge,) = event_services.generate_badges(event=event, count=1)
    (proposal,) = factories.make_proposals(event, 1)
    old = phone()
    old.goto(f"/e/{event.slug}/join?code={badge.code}")  # the badge's QR code: one tap to join
    old.get_by_role("button", name="Join").click()
    expect(old.locator("#conn")).to_have_attribute("data-state", "live")
    new = phone()
    new.goto(f"/e/{event.slug}/join?code={badge.code}")
    new.get_by_role("button", name="Join").click()
    expect(new.locator("#conn")).to_have_attribute("data-state", "live")

    old.get_by_role("button", name=re.compile("^Vote for")).click()

    expect(old.locator("#signed-out")).to_contain_text("This phone was signed out")
    expect(old.get_by_role("button", name=re.compile("^Vote for"))).to_be_disabled()
    new.get_by_role("button", name=re.compile("^Vote for")).click()
    expect(new.locator(".proposal-sync")).to_have_text("Saved")
    assert list(Vote.objects.values_list("attendee", "proposal")) == [(badge.attendee_id, proposal.pk)]


def test_the_phone_shows_reconnecting_while_the_feed_is_down_and_catches_up_after(transactional_db, phone):
    event = factories.make_event()
    page = phone()
    sockets = []

    def relay(socket):
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws/events/"), relay)
    page.goto(f"/e/{event.slug}/join?code={event.join_code}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")

    sockets[-1].close(code=1012, reason="server restart")
    (proposal,) = factories.make_proposals(event, 1)

    expect(page.locator("#conn-text")).to_have_text("Reconnecting…")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=LIVE)
    expect(card_by_id(page, proposal)).to_be_visible()
    assert len(sockets) == 2


def test_without_websockets_the_phone_falls_back_to_http(transactional_db, phone):
    event = factories.make_event()
    (proposal,) = factories.make_proposals(event, 1)
    page = phone()
    page.route_web_socket(re.compile(r"/ws/events/"), lambda socket: socket.close(code=1011))
    page.goto(f"/e/{event.slug}/join?code={event.join_code}")

    expect(card_by_id(page, proposal)).to_be_visible(timeout=12000)
    expect(page.locator("#conn-text")).to_have_text("Reconnecting…")
    page.get_by_role("button", name=re.compile("^Vote for")).click()

    expect(page.locator(".proposal-sync")).to_have_text("Saved")
    expect(page.locator("#meter-text")).to_have_text("4 of 5 dots left")
    assert list(Vote.objects.values_list("proposal", "dots")) == [(proposal.pk, 1)]


def test_a_vote_lost_on_a_lossy_network_is_retried_until_saved(transactional_db, phone):
    event = factories.make_event()
    (proposal,) = factories.make_proposals(event, 1)
    page = open_phone(phone, event)
    attempts = []

    def lose_the_first(route):
        attempts.append(route.request.method)
        if len(attempts) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/api/events/[^/]+/votes/\d+$"), lose_the_first)

    page.get_by_role("button", name=re.compile("^Vote for")).click()

    expect(page.locator(".proposal-sync")).to_have_text("Saved", timeout=LIVE)
    assert attempts == ["PUT", "PUT"]
    assert list(Vote.objects.values_list("proposal", "dots")) == [(proposal.pk, 1)]
