"""The organizer console in real Chromium: phases, moderation, merge, badges at the help desk,
co-organizers, hostile titles, and screenshots. Outcomes are checked against the API.
"""

import io
import re
from datetime import timedelta

import zxingcpp
from django.test import Client
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from tests import factories
from tests.browser.support import call, screenshot, serious_accessibility_issues, watch_errors
from voting.events import services as event_services
from voting.models import Event
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services


def open_console(desktop, server, user, event, width=1440, height=900, *, feed=None):
    """The console of an organizer who is already signed in (a session made in the test database)."""
    client = Client()
    client.force_login(user)
    page = desktop(width, height)
    watch_errors(page)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    if feed is not None:
        page.route_web_socket(re.compile(r"/ws/events/"), feed)
    page.goto(f"/e/{event.slug}/organize/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    return page


def row(page, title):
    return page.locator("#proposal-rows tr").filter(has=page.locator(".p-title", has_text=title))


def confirm(page, title):
    dialog = page.locator("#confirm-dialog")
    expect(dialog.locator("#confirm-title")).to_have_text(title)
    dialog.locator("#confirm-ok").click()
    expect(dialog).to_be_hidden()


# --- phases ------------------------------------------------------------------------------------


def test_phase_buttons_open_and_close_everything_in_one_click_each(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, voting_open=False, tally_visibility="blind")
    page = open_console(desktop, server, organizer, event)

    page.get_by_role("button", name="Open voting").click()
    expect(page.locator("#phase-now")).to_have_text("Voting is open")
    page.get_by_role("button", name="Close proposals").click()
    expect(page.get_by_role("button", name="Open proposals")).to_be_enabled()
    page.get_by_role("button", name="+5 min").click()
    expect(page.locator("#phase-now")).to_have_text(re.compile(r"^Voting is open · closes in [45]:\d\d$"))
    deadline = Event.objects.get(pk=event.pk).voting_closes_at
    assert timedelta(minutes=4, seconds=50) < deadline - timezone.now() <= timedelta(minutes=5)
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#deadline-now")).to_have_text("No deadline: voting stays open until you close it.")

    page.get_by_role("button", name="Close voting").click()
    confirm(page, "Close voting now?")
    expect(page.locator("#phase-now")).to_have_text("Waiting to open voting")
    page.get_by_role("button", name="Reveal results").click()
    confirm(page, "Reveal the results?")
    expect(page.locator("#reveal-hint")).to_have_text("The results have been revealed.")

    status, body = call(server, "GET", f"/api/events/{event.slug}", organizer=organizer)
    assert status == 200
    assert {
        k: body[k] for k in ("accepting_proposals", "voting_open", "voting_closes_at", "results_revealed")
    } == {
        "accepting_proposals": False,
        "voting_open": False,
        "voting_closes_at": None,
        "results_revealed": True,
    }


def test_cancelling_a_confirmation_changes_nothing(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    page = open_console(desktop, server, organizer, event)

    page.get_by_role("button", name="Close voting").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()

    expect(page.locator("#phase-now")).to_have_text("Voting is open")
    assert Event.objects.get(pk=event.pk).voting_open is True


def test_voting_rules_lock_with_a_clear_message_once_dots_are_cast(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    proposal = proposal_services.submit_proposal(event=event, author=None, title="Alpha")
    page = open_console(desktop, server, organizer, event)
    expect(page.locator("#rules-locked")).to_be_hidden()

    vote_services.set_dots(attendee=factories.join(event)[0], proposal_id=proposal.pk, dots=1)

    expect(page.locator("#rules-locked")).to_be_visible(timeout=5000)
    expect(page.get_by_label("Dots per attendee")).to_be_disabled()
    page.get_by_label("Counts").select_option("blind")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#toast")).to_have_text("Settings saved.")
    assert Event.objects.get(pk=event.pk).tally_visibility == "blind"


def test_the_server_refusal_of_a_rule_change_is_shown_in_the_form(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    proposal = proposal_services.submit_proposal(event=event, author=None, title="Alpha")
    deaf = {"on": False}

    def feed(socket):  # lets the test hold back live updates, as a slow network would
        upstream = socket.connect_to_server()
        upstream.on_message(lambda message: None if deaf["on"] else socket.send(message))

    page = open_console(desktop, server, organizer, event, feed=feed)
    page.get_by_label("Dots per attendee").fill("7")
    deaf["on"] = True
    vote_services.set_dots(attendee=factories.join(event)[0], proposal_id=proposal.pk, dots=1)

    page.get_by_role("button", name="Save settings").click()

    expect(page.locator("#settings-error")).to_have_text(
        "The voting rules cannot change once dots have been cast."
    )
    assert Event.objects.get(pk=event.pk).votes_per_attendee == 5


# --- moderation and merge ----------------------------------------------------------------------


def test_moderation_queue_approves_hides_and_edits(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, moderation="pre")
    author = factories.join(event)[0]
    waiting = proposal_services.submit_proposal(event=event, author=author, title="Pending idea")
    spam = proposal_services.submit_proposal(event=event, author=author, title="Buy cheap watches")
    page = open_console(desktop, server, organizer, event)
    expect(page.locator('[data-count-for="pending"]')).to_have_text("2")

    page.get_by_role("tab", name=re.compile("To approve")).click()
    row(page, "Pending idea").get_by_role("button", name="Approve").click()
    row(page, "Buy cheap watches").get_by_role("button", name="Hide").click()
    expect(page.locator('[data-count-for="pending"]')).to_have_text("0")
    page.get_by_role("tab", name=re.compile("Published")).click()
    row(page, "Pending idea").get_by_role("button", name="Edit").click()
    page.locator("#edit-dialog").get_by_label("Title").fill("Approved idea, tidied")
    page.locator("#edit-dialog").get_by_label("Title").press("Enter")  # Enter saves, it does not cancel
    expect(row(page, "Approved idea, tidied")).to_be_visible()

    _, approved = call(server, "GET", f"/api/events/{event.slug}/proposals/{waiting.pk}", organizer=organizer)
    _, hidden = call(server, "GET", f"/api/events/{event.slug}/proposals/{spam.pk}", organizer=organizer)
    assert (approved["status"], approved["title"]) == ("published", "Approved idea, tidied")
    assert hidden["status"] == "hidden"


def test_merging_a_duplicate_previews_and_moves_the_votes(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    original = proposal_services.submit_proposal(event=event, author=None, title="Rust for Pythonistas")
    duplicate = proposal_services.submit_proposal(event=event, author=None, title="Rust for Python people")
    both, only_duplicate, only_original = (factories.join(event)[0] for _ in range(3))
    for attendee, proposal in [
        (both, original),
        (both, duplicate),
        (only_duplicate, duplicate),
        (only_original, original),
    ]:
        vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
    page = open_console(desktop, server, organizer, event)

    row(page, "Rust for Python people").get_by_role("button", name="Merge…").click()
    dialog = page.locator("#merge-dialog")
    expect(dialog.locator("#merge-source")).to_have_text("Rust for Python people")
    expect(dialog.locator("#merge-preview li")).to_have_text(
        [
            "1 dot moves to “Rust for Pythonistas”.",
            "1 voter moves over; 1 already voted for both.",
            "1 dot is refunded (over the per-proposal cap).",
        ]
    )
    dialog.get_by_role("button", name="Merge", exact=True).click()
    expect(page.locator("#toast")).to_have_text(
        "“Rust for Python people” merged into “Rust for Pythonistas”."
    )

    _, merged = call(server, "GET", f"/api/events/{event.slug}/proposals/{duplicate.pk}", organizer=organizer)
    _, results = call(server, "GET", f"/api/events/{event.slug}/results", organizer=organizer)
    assert (merged["status"], merged["merged_into"]) == ("merged", original.pk)
    assert [(r["id"], r["dots"], r["voters"]) for r in results] == [(original.pk, 3, 3)]
    expect(page.locator('[data-count-for="merged"]')).to_have_text("1")
    expect(row(page, "Rust for Pythonistas").locator("td.num").first).to_have_text("3")


# --- badges at the help desk -------------------------------------------------------------------


def test_badges_are_generated_printed_and_reissued_at_the_help_desk(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, identity_mode="badge")
    page = open_console(desktop, server, organizer, event)

    page.locator("#badge-count").fill("3")
    page.locator("#badge-generate button").click()
    expect(page.locator("#badge-stats")).to_have_text("3 badges · 3 unused · 0 redeemed · 0 revoked")
    _, badges = call(server, "GET", f"/api/events/{event.slug}/badges", organizer=organizer)
    lost = badges[0]
    event_services.join_event(event=event, code=lost["code"])  # the attendee used it, then lost the phone

    typed = "-".join(lost["code"][i : i + 4] for i in range(0, len(lost["code"]), 4)).lower()
    page.locator("#badge-code").fill(typed)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#badge-result-status")).to_have_text("redeemed")
    page.get_by_role("button", name="Reissue").click()
    confirm(page, f"Reissue badge {lost['code']}?")
    expect(page.locator("#badge-new")).to_be_visible()
    new_code = page.locator("#badge-new-code").text_content()

    _, after = call(server, "GET", f"/api/events/{event.slug}/badges", organizer=organizer)
    by_code = {b["code"]: b for b in after}
    assert by_code[lost["code"]]["status"] == "revoked"
    assert by_code[new_code] == {"code": new_code, "attendee_id": lost["attendee_id"], "status": "unused"}
    assert call(server, "POST", f"/api/events/{event.slug}/join", {"code": lost["code"]})[0] == 403
    status, joined = call(server, "POST", f"/api/events/{event.slug}/join", {"code": new_code})
    assert (status, joined["attendee"]["id"]) == (201, lost["attendee_id"])

    page.locator("#badge-code").fill(new_code)
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("button", name="Revoke").click()
    confirm(page, f"Revoke badge {new_code}?")
    expect(page.locator("#badge-result-status")).to_have_text("revoked")
    _, final = call(server, "GET", f"/api/events/{event.slug}/badges", organizer=organizer)
    assert {b["code"]: b["status"] for b in final}[new_code] == "revoked"

    with page.expect_popup() as popup:
        page.get_by_role("link", name="Print sheet (A4)").click()
    sheet = popup.value
    expect(sheet.locator(".label")).to_have_count(2)  # the two badges nobody lost
    png = sheet.locator(".label-qr").first.screenshot()
    first = sheet.locator(".label").first.get_attribute("data-code")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [
        f"{server.url}/e/{event.slug}/join?code={first}"
    ]


# --- co-organizers -------------------------------------------------------------------------------


def test_co_organizers_are_added_and_removed_by_username(transactional_db, server, desktop):
    organizer = factories.make_organizer("lead")
    helper = factories.make_organizer("helper")
    event = factories.make_event(organizer)
    page = open_console(desktop, server, organizer, event)
    expect(page.locator("#organizer-list li strong")).to_have_text(["lead"])
    expect(page.locator("#organizer-list").get_by_role("button", name="Remove")).to_be_disabled()

    page.locator("#organizer-username").fill("helper")
    page.locator("#organizer-add button").click()
    expect(page.locator("#organizer-list li strong")).to_have_text(["helper", "lead"])
    assert event.is_organizer(helper)

    page.locator("#organizer-list li").filter(has_text="helper").get_by_role("button", name="Remove").click()
    expect(page.locator("#organizer-list li strong")).to_have_text(["lead"])
    assert not Event.objects.get(pk=event.pk).is_organizer(helper)

    page.locator("#organizer-username").fill("nobody")
    page.locator("#organizer-add button").click()
    expect(page.locator("#toast")).to_have_text("There is no active user named “nobody”.")


# --- hostile text -----------------------------------------------------------------------------------

HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "\u202eesrever ni txet",
    "🎉" * 60,
]


def test_hostile_titles_are_plain_text_in_the_console(transactional_db, server, desktop):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, moderation="pre")
    author = factories.join(event)[0]
    for title in HOSTILE:
        proposal_services.submit_proposal(
            event=event, author=author, title=title, host_name='"><svg onload=alert(1)>'
        )
    page = open_console(desktop, server, organizer, event)
    page.get_by_role("tab", name=re.compile("To approve")).click()

    expect(page.locator("#proposal-rows .p-title")).to_have_text(HOSTILE)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#proposal-rows img, #proposal-rows script, #proposal-rows svg").count() == 0
    row(page, "esrever").get_by_role("button", name="Edit").click()
    expect(page.locator("#edit-dialog").get_by_label("Title")).to_have_value(HOSTILE[2])
    expect(page.locator("#edit-dialog").get_by_label("Host")).to_have_value('"><svg onload=alert(1)>')
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


# --- screenshots (docs/) ---------------------------------------------------------------------------

TALKS = [  # title, host, which of the 24 attendees voted for it
    ("Async Django in production: war stories", "Ana Souza", range(0, 14)),
    ("Postgres tricks every developer should know", "Eve Kowalski", range(4, 15)),
    ("HTMX or a SPA? Let's argue", "Ivo Marić", range(8, 17)),
    ("Rust extensions for Python with PyO3", "Fay Chen", range(10, 18)),
    ("Testing with real databases", "Hal Berg", range(0, 6)),
    ("Type hints everywhere?", "Ben Okafor", range(14, 19)),
    ("Async Django: lessons learned", "Rui Costa", range(11, 16)),
    ("Packaging in 2026: where are we?", "Chen Wei", range(18, 20)),
]


def test_console_screenshots(transactional_db, server, desktop, tmp_path):
    organizer = factories.make_organizer("ana")
    factories.make_organizer("eve")
    event = factories.make_event(
        organizer,
        name="PyCon Unconference 2026",
        moderation="pre",
        votes_per_attendee=10,
        voting_closes_at=timezone.now() + timedelta(minutes=12),
    )
    event.organizers.add(factories.make_organizer("ben"))
    people = [factories.join(event)[0] for _ in range(24)]
    proposals = []
    for title, host, voters in TALKS:
        proposal = proposal_services.submit_proposal(event=event, author=None, title=title, host_name=host)
        proposals.append(proposal)
        for attendee in (people[i] for i in voters):
            vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)
    for title in ("Coffee-break knitting circle", "Open mic: lightning demos"):
        proposal_services.submit_proposal(event=event, author=people[0], title=title, host_name="Dee")
    event_services.generate_badges(event=event, count=30)
    page = open_console(desktop, server, organizer, event, 1440, 1000)
    expect(page.locator("#badge-stats")).to_have_text(re.compile("^30 badges"))
    expect(page.locator('[data-count-for="pending"]')).to_have_text("2")
    screenshot(page, "console-live", tmp_path, full_page=True)
    assert serious_accessibility_issues(page) == []

    row(page, "Async Django: lessons learned").get_by_role("button", name="Merge…").click()
    expect(page.locator("#merge-preview li")).to_have_count(3)
    expect(page.locator("#merge-ok")).to_be_enabled()
    screenshot(page, "console-merge", tmp_path)
    assert page.errors == []  # the strict CSP holds: no inline script or style was refused
