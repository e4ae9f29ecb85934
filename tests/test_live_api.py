"""During and after the sessions (contract 5.2): now/next, stars, check-in, occupancy and the
swap, notes with revisions, proceedings, the stage's view and announcement."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories
from voting.models import Room, ScheduledSession, Slot
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db


def running_event(organizer, *, published=True, **fields):
    """An event whose schedule has a slot running now (S1) and one starting in 2 hours (S2),
    two sessions in each, rooms Hall (200), Small (2) and Tiny (1)."""
    event = factories.make_event(organizer, schedule_published=published, **fields)
    now = timezone.now()
    hall = Room.objects.create(event=event, name="Hall", capacity=200)
    small = Room.objects.create(event=event, name="Small", capacity=2)
    tiny = Room.objects.create(event=event, name="Tiny", capacity=1)
    s1 = Slot.objects.create(
        event=event, starts_at=now - timedelta(minutes=20), ends_at=now + timedelta(minutes=25)
    )
    s2 = Slot.objects.create(
        event=event, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3)
    )
    a, b, c, d = (
        proposal_services.submit_proposal(event=event, author=None, title=title, host_name=host)
        for title, host in [
            ("Alpha talk", "Ann"),
            ("Beta talk", "Bo"),
            ("Gamma talk", "Cy"),
            ("Delta talk", "Di"),
        ]
    )
    for proposal, room, slot in [(a, hall, s1), (b, small, s1), (c, hall, s2), (d, small, s2)]:
        ScheduledSession.objects.create(event=event, proposal=proposal, room=room, slot=slot)
    return event, (hall, small, tiny), (s1, s2), (a, b, c, d)


def checkin(client, event, proposal):
    return client.post(f"/api/events/{event.slug}/schedule/sessions/{proposal.pk}/checkin")


# --- now and next ------------------------------------------------------------------------------


def test_now_lists_running_sessions_and_next_lists_the_next_slot_with_rooms_and_checkins(organizer, anon):
    event, (hall, small, _), (s1, s2), (a, b, c, d) = running_event(organizer)
    _, phone, _ = factories.join(event)
    checkin(phone, event, b)

    body = anon.get(f"/api/events/{event.slug}/now").json()

    assert [(s["title"], s["room_name"], s["host_name"], s["checked_in"]) for s in body["now"]] == [
        ("Alpha talk", "Hall", "Ann", 0),
        ("Beta talk", "Small", "Bo", 1),
    ]
    assert [(s["proposal"], s["room"], s["slot"]) for s in body["next"]] == [
        (c.pk, hall.pk, s2.pk),
        (d.pk, small.pk, s2.pk),
    ]
    assert "occupancy" not in body


def test_now_is_empty_before_the_schedule_is_published(organizer, anon):
    event, *_ = running_event(organizer, published=False)

    body = anon.get(f"/api/events/{event.slug}/now").json()

    assert (body["now"], body["next"]) == ([], [])


# --- stars -------------------------------------------------------------------------------------


def test_an_attendee_who_never_voted_stars_sessions_and_gets_them_in_my_calendar(organizer):
    event, _, _, (a, b, c, d) = running_event(organizer)
    attendee, phone, _ = factories.join(event)
    vote_services.set_dots(attendee=attendee, proposal_id=a.pk, dots=1)

    put = phone.put(f"/api/events/{event.slug}/me/stars", {"sessions": [c.pk, b.pk]}, format="json")
    ics = phone.get(f"/api/events/{event.slug}/schedule.ics?mine=1").content.decode()

    assert put.json() == {"sessions": sorted([b.pk, c.pk])}
    assert phone.get(f"/api/events/{event.slug}/me/stars").json() == {"sessions": sorted([b.pk, c.pk])}
    assert [title for title in ("Alpha talk", "Beta talk", "Gamma talk", "Delta talk") if title in ics] == [
        "Alpha talk",
        "Beta talk",
        "Gamma talk",
    ]


def test_stars_refuse_proposals_of_another_event_and_need_an_attendee(organizer, anon):
    event, *_ = running_event(organizer)
    other = factories.make_proposals(factories.make_event(organizer), 1)[0]
    _, phone, _ = factories.join(event)

    refused = phone.put(f"/api/events/{event.slug}/me/stars", {"sessions": [other.pk]}, format="json")
    anonymous = anon.get(f"/api/events/{event.slug}/me/stars")

    assert refused.status_code == 400
    assert anonymous.status_code == 401


# --- the law of two feet -----------------------------------------------------------------------


def test_checking_in_elsewhere_moves_the_attendee_and_delete_checks_out(organizer):
    event, _, _, (a, b, _, _) = running_event(organizer)
    _, phone, _ = factories.join(event)

    first = checkin(phone, event, a).json()
    moved = checkin(phone, event, b).json()
    now = APIClient().get(f"/api/events/{event.slug}/now").json()["now"]
    out = phone.delete(f"/api/events/{event.slug}/schedule/sessions/{b.pk}/checkin").json()

    assert first == {"session": a.pk, "checked_in": 1}
    assert moved == {"session": b.pk, "checked_in": 1}
    assert [(s["proposal"], s["checked_in"]) for s in now] == [(a.pk, 0), (b.pk, 1)]
    assert out == {"session": None, "checked_in": 0}


def test_checkin_is_refused_before_publishing_and_outside_the_running_window(organizer, settings):
    event, _, (s1, s2), (a, _, c, _) = running_event(organizer)
    draft, *_rest = running_event(organizer, published=False)
    draft_session = draft.scheduled_sessions.first().proposal
    _, phone, _ = factories.join(event)
    _, draft_phone, _ = factories.join(draft)

    later = checkin(phone, event, c)
    unpublished = checkin(draft_phone, draft, draft_session)
    s2.starts_at = timezone.now() + timedelta(minutes=settings.UNCONF_CHECKIN_EARLY_MINUTES - 1)
    s2.save()
    early = checkin(phone, event, c)
    s1.ends_at = timezone.now() - timedelta(minutes=1)
    s1.starts_at = s1.ends_at - timedelta(minutes=30)
    s1.save()
    ended = checkin(phone, event, a)

    assert (later.status_code, later.json()["code"]) == (409, "not_running")
    assert (unpublished.status_code, unpublished.json()["code"]) == (409, "not_published")
    assert early.status_code == 200
    assert (ended.status_code, ended.json()["code"]) == (409, "not_running")


def test_an_overflowing_session_comes_with_a_free_bigger_room_and_one_patch_moves_it(organizer, org_client):
    event, (hall, small, tiny), (s1, _), (a, b, _, _) = running_event(organizer)
    ScheduledSession.objects.filter(proposal=a).update(room=tiny)  # Hall is free in S1 now
    phones = [factories.join(event)[1] for _ in range(3)]
    for phone in phones:
        checkin(phone, event, b)

    row = next(
        r
        for r in org_client.get(f"/api/events/{event.slug}/now").json()["occupancy"]
        if r["proposal"] == b.pk
    )
    org_client.patch(
        f"/api/events/{event.slug}/schedule/sessions/{b.pk}",
        {"room": row["suggestion"]["room"]},
        format="json",
    )
    after = org_client.get(f"/api/events/{event.slug}/now").json()["occupancy"]

    assert (row["checked_in"], row["capacity"], row["over_capacity"]) == (3, 2, True)
    assert row["suggestion"] == {
        "room": hall.pk,
        "room_name": "Hall",
        "capacity": 200,
        "swap_with": None,
        "swap_title": "",
    }
    assert [(r["proposal"], r["room_name"], r["checked_in"], r["over_capacity"]) for r in after] == [
        (b.pk, "Hall", 3, False),
        (a.pk, "Tiny", 0, False),
    ]


def test_without_a_free_room_the_suggestion_swaps_with_an_emptier_bigger_room(organizer, org_client):
    event, (hall, small, tiny), _, (a, b, _, _) = running_event(organizer)
    for _ in range(3):
        checkin(factories.join(event)[1], event, b)
    checkin(factories.join(event)[1], event, a)
    ScheduledSession.objects.create(
        event=event, proposal=factories.make_proposals(event, 1)[0], room=tiny, slot=a.scheduled.slot
    )

    suggestion = next(
        r
        for r in org_client.get(f"/api/events/{event.slug}/now").json()["occupancy"]
        if r["proposal"] == b.pk
    )["suggestion"]
    org_client.patch(
        f"/api/events/{event.slug}/schedule/sessions/{b.pk}", {"room": suggestion["room"]}, format="json"
    )

    assert (suggestion["room_name"], suggestion["swap_with"], suggestion["swap_title"]) == (
        "Hall",
        a.pk,
        "Alpha talk",
    )
    assert {s.proposal_id: s.room.name for s in ScheduledSession.objects.filter(proposal__in=[a, b])} == {
        a.pk: "Small",
        b.pk: "Hall",
    }


# --- notes -------------------------------------------------------------------------------------


def notes_url(event, proposal):
    return f"/api/events/{event.slug}/schedule/sessions/{proposal.pk}/notes"


def test_notes_are_written_by_checked_in_attendees_and_hosts_and_every_revision_is_kept(
    organizer, org_client
):
    event, _, _, (a, _, _, _) = running_event(organizer)
    host, host_phone, _ = factories.join(event)
    a.author = host
    a.save()
    writer, phone, _ = factories.join(event)
    _, stranger, _ = factories.join(event)
    checkin(phone, event, a)

    refused = stranger.put(notes_url(event, a), {"text": "spam"}, format="json")
    unread = stranger.get(notes_url(event, a))
    first = phone.put(notes_url(event, a), {"text": "# Notes\n- one"}, format="json")
    second = host_phone.put(
        notes_url(event, a), {"text": "# Notes\n- one\n- two"}, format="json", HTTP_IF_MATCH='"1"'
    )
    revisions = org_client.get(notes_url(event, a) + "/revisions").json()

    assert (refused.status_code, unread.status_code) == (403, 403)
    assert (first.json()["revision"], first["ETag"]) == (1, '"1"')
    assert second.json()["text"] == "# Notes\n- one\n- two"
    assert [(r["revision"], r["author"], r["text"]) for r in revisions] == [
        (1, writer.public_id, "# Notes\n- one"),
        (2, host.public_id, "# Notes\n- one\n- two"),
    ]
    assert phone.get(notes_url(event, a)).json()["revision"] == 2


def test_a_stale_if_match_gets_edit_conflict_and_no_header_means_last_writer_wins(organizer, org_client):
    event, _, _, (a, _, _, _) = running_event(organizer)
    org_client.put(notes_url(event, a), {"text": "first"}, format="json")
    org_client.put(notes_url(event, a), {"text": "second"}, format="json")

    stale = org_client.put(notes_url(event, a), {"text": "from an old tab"}, format="json", HTTP_IF_MATCH="1")
    blind = org_client.put(notes_url(event, a), {"text": "last writer"}, format="json")

    assert (stale.status_code, stale.json()["code"]) == (409, "edit_conflict")
    assert (blind.json()["revision"], blind.json()["text"]) == (3, "last writer")


def test_notes_longer_than_the_limit_are_refused(organizer, org_client, settings):
    event, _, _, (a, _, _, _) = running_event(organizer)

    response = org_client.put(
        notes_url(event, a), {"text": "x" * (settings.UNCONF_NOTES_MAX_CHARS + 1)}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["text"]


# --- proceedings -------------------------------------------------------------------------------


def test_proceedings_are_for_organizers_until_published_then_for_everyone(organizer, org_client, anon):
    event, _, _, (a, b, _, _) = running_event(organizer)
    org_client.put(notes_url(event, a), {"text": "We agreed on **three** things."}, format="json")

    before = [
        anon.get(f"/api/events/{event.slug}/proceedings.{ext}").status_code for ext in ("json", "md", "html")
    ]
    page_before = anon.get(f"/e/{event.slug}/proceedings/").status_code
    published = org_client.post(f"/api/events/{event.slug}/proceedings/publish").json()
    body = anon.get(f"/api/events/{event.slug}/proceedings.json").json()
    markdown = anon.get(f"/api/events/{event.slug}/proceedings.md").content.decode()
    public_notes = anon.get(notes_url(event, a)).json()["text"]

    assert before == [403, 403, 403]
    assert page_before == 404
    assert published == {"published": True}
    assert [(s["title"], s["room"], s["host_name"], s["notes"], s["dots"]) for s in body["sessions"][:2]] == [
        ("Alpha talk", "Hall", "Ann", "We agreed on **three** things.", 0),
        ("Beta talk", "Small", "Bo", "", 0),
    ]
    assert "## Alpha talk\n" in markdown and "We agreed on **three** things." in markdown
    assert public_notes == "We agreed on **three** things."


def test_notes_markdown_is_rendered_without_script_or_raw_html_on_every_face(organizer, org_client, anon):
    event, _, _, (a, _, _, _) = running_event(organizer)
    hostile = (
        "<script>alert(1)</script>\n\n**bold** [x](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n"
        "[ok](https://example.org)"
    )
    org_client.put(notes_url(event, a), {"text": hostile}, format="json")
    org_client.post(f"/api/events/{event.slug}/proceedings/publish")

    pages = [
        anon.get(f"/api/events/{event.slug}/proceedings.html").content.decode(),
        anon.get(f"/e/{event.slug}/proceedings/").content.decode(),
    ]

    for html in pages:
        assert "<script>alert" not in html
        assert 'href="javascript' not in html
        assert "<img" not in html
        assert "<strong>bold</strong>" in html
        assert '<a href="https://example.org" rel="nofollow noopener noreferrer">ok</a>' in html


def test_the_proceedings_page_has_a_link_preview_image(organizer, org_client, anon):
    event, *_ = running_event(organizer)
    org_client.post(f"/api/events/{event.slug}/proceedings/publish")

    html = anon.get(f"/e/{event.slug}/proceedings/").content.decode()
    image = anon.get(f"/e/{event.slug}/proceedings.png")

    assert f'<meta property="og:image" content="http://testserver/e/{event.slug}/proceedings.png">' in html
    assert (image.status_code, image["Content-Type"], image.content[:8]) == (
        200,
        "image/png",
        b"\x89PNG\r\n\x1a\n",
    )


# --- what the stage shows ----------------------------------------------------------------------


def test_organizers_choose_the_stage_view_and_an_announcement_attendees_cannot(organizer, org_client):
    event, *_ = running_event(organizer)
    _, phone, _ = factories.join(event)

    changed = org_client.patch(
        f"/api/events/{event.slug}",
        {"stage_view": "announcement", "announcement": "Lunch in hall B"},
        format="json",
    ).json()
    refused = phone.patch(f"/api/events/{event.slug}", {"stage_view": "qr"}, format="json")
    wrong = org_client.patch(f"/api/events/{event.slug}", {"stage_view": "karaoke"}, format="json")

    assert (changed["stage_view"], changed["announcement"]) == ("announcement", "Lunch in hall B")
    assert refused.status_code == 403
    assert wrong.status_code == 400
    assert APIClient().get(f"/api/events/{event.slug}").json()["stage_view"] == "announcement"


def test_the_schedule_page_highlights_starred_sessions_as_picks(organizer):
    event, _, _, (a, b, c, d) = running_event(organizer)
    attendee, phone, token = factories.join(event)
    phone.put(f"/api/events/{event.slug}/me/stars", {"sessions": [c.pk]}, format="json")
    browser = APIClient()
    browser.cookies["unconf_attendee"] = token

    html = browser.get(f"/e/{event.slug}/schedule/").content.decode()

    assert "Your pick is highlighted." in html
    picked = html.split('class="session is-mine"')[1].split("</li>")[0]
    assert "Gamma talk" in picked


def test_note_revisions_are_read_only_and_for_writers(organizer, org_client, anon):
    event, _, _, (a, _, _, _) = running_event(organizer)
    org_client.put(notes_url(event, a), {"text": "first"}, format="json")

    put = org_client.put(notes_url(event, a) + "/revisions", {"text": "sneaky"}, format="json")
    stranger = anon.get(notes_url(event, a) + "/revisions")

    assert put.status_code == 405
    assert stranger.status_code == 403


def test_the_markdown_proceedings_keep_titles_and_names_plain(organizer, org_client):
    event, _, _, (a, _, _, _) = running_event(organizer)
    a.title = "# <b>Big</b> [link](x) *stars*"
    b = a.event.proposals.get(title="Beta talk")
    b.title = "1. Intro"
    b.save()
    a.host_name = "Jean-Luc_Picard"
    a.save()

    markdown = org_client.get(f"/api/events/{event.slug}/proceedings.md").content.decode()
    html = proceedings_html(markdown)

    assert "<h2>" + r"# &lt;b&gt;Big&lt;/b&gt; [link](x) *stars*" + "</h2>" in html
    assert "Jean-Luc_Picard" in html
    assert "<h2>1. Intro</h2>" in html
    assert "\\" not in html  # no stray backslash, e.g. before a time


def proceedings_html(markdown: str) -> str:
    from voting.day.proceedings import render_markdown

    return render_markdown(markdown)
