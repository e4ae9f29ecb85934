"""A German organizer's screens in real Chromium: every sentence the scripts write (phase,
countdown, a failed request) comes from Django's German catalog, none is English."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import watch_errors

GERMAN = {"locale": "de-DE", "extra_http_headers": {"Accept-Language": "de"}}


def test_a_german_stage_shows_its_phase_and_countdown_in_german(transactional_db, server, desktop):
    event = factories.make_event(voting_open=True, voting_closes_at=timezone.now() + timedelta(minutes=5))
    page = desktop(1280, 720, **GERMAN)
    watch_errors(page)
    page.goto(f"/e/{event.slug}/stage/")

    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#stage-phase")).to_contain_text("Abstimmung endet in")
    expect(page.locator("#stage-phase")).to_contain_text("4:")
    expect(page.locator("#stage-phase")).not_to_contain_text("Voting")


def test_a_german_console_shows_its_phase_and_a_failed_request_in_german(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, voting_open=True, accepting_proposals=True)
    client = Client()
    client.force_login(organizer)
    page = desktop(1440, 900, **GERMAN)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    page.goto(f"/e/{event.slug}/organize/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#phase-now")).to_have_text("Die Abstimmung ist offen")

    # The server cannot be reached: api.js's sentence, from the German catalog.
    page.route("**/api/events/**", lambda route: route.abort())
    page.locator("#btn-close-proposals").click()

    expect(page.locator("#toast")).to_contain_text("Der Server war nicht erreichbar.")
