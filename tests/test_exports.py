"""Schedule exports parsed back as a calendar app and a conference app would: JSON, iCalendar, frab XML."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from lxml import etree

from tests import factories
from voting.models import Proposal, Room, ScheduledSession, Slot
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = '</title><script>alert("x")</script> & ]]> , ; \\ ✨'


@pytest.fixture
def berlin(event, settings):
    # The event's own zone, not the server's: exports follow the event.
    settings.TIME_ZONE = "America/New_York"
    event.time_zone = "Europe/Berlin"
    event.save(update_fields=["time_zone"])


@pytest.fixture
def conference(berlin, event, org_client):
    """Two rooms, two slots on one day and one the next, three sessions placed by hand, published."""
    hostile, plain, late = (
        proposal_services.submit_proposal(
            event=event,
            author=None,
            title=HOSTILE,
            description="Line one,\nline two; <b>not bold</b>",
            host_name="Ada <Lovelace>",
        ),
        proposal_services.submit_proposal(event=event, author=None, title="Plain talk", host_name=""),
        proposal_services.submit_proposal(
            event=event, author=None, title="Day two session", description="Tomorrow"
        ),
    )
    hall = Room.objects.create(event=event, name="Hall & Co", capacity=100)
    attic = Room.objects.create(event=event, name="Attic", capacity=10)
    morning = Slot.objects.create(
        event=event,
        starts_at=dt.datetime(2030, 5, 1, 10, 0, tzinfo=BERLIN),
        ends_at=dt.datetime(2030, 5, 1, 10, 45, tzinfo=BERLIN),
        label="Morning",
    )
    noon = Slot.objects.create(
        event=event,
        starts_at=dt.datetime(2030, 5, 1, 12, 0, tzinfo=BERLIN),
        ends_at=dt.datetime(2030, 5, 1, 13, 30, tzinfo=BERLIN),
    )
    tomorrow = Slot.objects.create(
        event=event,
        starts_at=dt.datetime(2030, 5, 2, 9, 15, tzinfo=BERLIN),
        ends_at=dt.datetime(2030, 5, 2, 10, 0, tzinfo=BERLIN),
    )
    ScheduledSession.objects.create(event=event, proposal=hostile, room=hall, slot=morning)
    ScheduledSession.objects.create(event=event, proposal=plain, room=attic, slot=noon)
    ScheduledSession.objects.create(event=event, proposal=late, room=hall, slot=tomorrow)
    assert org_client.post(f"/api/events/{event.slug}/schedule/publish").status_code == 200
    return {
        "proposals": (hostile, plain, late),
        "rooms": (hall, attic),
        "slots": (morning, noon, tomorrow),
    }


def _get(client, event, name, **params):
    return client.get(f"/api/events/{event.slug}/{name}", params)


# --- JSON ------------------------------------------------------------------------------------


def test_json_export_lists_sessions_with_rooms_and_local_times(event, conference, anon):
    hostile, plain, late = conference["proposals"]
    hall, attic = conference["rooms"]
    morning, noon, tomorrow = conference["slots"]

    body = _get(anon, event, "schedule.json").json()

    assert body["event"] == {"slug": event.slug, "name": event.name}
    assert body["published"] is True
    assert body["url"] == f"http://testserver/e/{event.slug}/schedule/"
    assert body["time_zone"] == "Europe/Berlin"
    assert body["rooms"] == [
        {"id": hall.pk, "name": "Hall & Co", "capacity": 100, "directions": ""},
        {"id": attic.pk, "name": "Attic", "capacity": 10, "directions": ""},
    ]
    assert body["sessions"] == [
        {
            "proposal": hostile.pk,
            "title": HOSTILE,
            "description": "Line one,\nline two; <b>not bold</b>",
            "host_name": "Ada <Lovelace>",
            "room": hall.pk,
            "room_name": "Hall & Co",
            "slot": morning.pk,
            "starts_at": "2030-05-01T10:00:00+02:00",
            "ends_at": "2030-05-01T10:45:00+02:00",
        },
        {
            "proposal": plain.pk,
            "title": "Plain talk",
            "description": "",
            "host_name": "",
            "room": attic.pk,
            "room_name": "Attic",
            "slot": noon.pk,
            "starts_at": "2030-05-01T12:00:00+02:00",
            "ends_at": "2030-05-01T13:30:00+02:00",
        },
        {
            "proposal": late.pk,
            "title": "Day two session",
            "description": "Tomorrow",
            "host_name": "",
            "room": hall.pk,
            "room_name": "Hall & Co",
            "slot": tomorrow.pk,
            "starts_at": "2030-05-02T09:15:00+02:00",
            "ends_at": "2030-05-02T10:00:00+02:00",
        },
    ]


# --- iCalendar -------------------------------------------------------------------------------


def _calendar(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _events(calendar):
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def test_ics_has_one_event_per_session_with_zoned_times_rooms_and_details(event, conference, anon):
    hostile, plain, late = conference["proposals"]

    calendar = _calendar(_get(anon, event, "schedule.ics"))

    events = _events(calendar)
    assert str(calendar["x-wr-calname"]) == event.name
    assert set(events) == {HOSTILE, "Plain talk", "Day two session"}
    first = events[HOSTILE]
    assert first.decoded("dtstart") == dt.datetime(2030, 5, 1, 10, 0, tzinfo=BERLIN)
    assert first.decoded("dtend") == dt.datetime(2030, 5, 1, 10, 45, tzinfo=BERLIN)
    assert first["dtstart"].params["TZID"] == "Europe/Berlin"
    assert first.decoded("dtstart").utcoffset() == dt.timedelta(hours=2)
    assert str(first["location"]) == "Hall & Co"
    assert str(first["description"]) == "Line one,\nline two; <b>not bold</b>\n\nHost: Ada <Lovelace>"
    assert str(first["uid"]) == f"unconf-{event.slug}-{hostile.pk}@testserver"
    assert str(first["url"]) == f"http://testserver/e/{event.slug}/schedule/"
    assert events["Plain talk"].decoded("dtend") == dt.datetime(2030, 5, 1, 13, 30, tzinfo=BERLIN)
    assert str(events["Plain talk"]["location"]) == "Attic"
    assert "description" not in events["Plain talk"]
    assert events["Day two session"].decoded("dtstart") == dt.datetime(2030, 5, 2, 9, 15, tzinfo=BERLIN)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_ics_escapes_hostile_text_instead_of_letting_it_add_properties(event, conference, anon):
    raw = _get(anon, event, "schedule.ics").content.decode()

    unfolded = raw.replace("\r\n ", "")
    assert 'SUMMARY:</title><script>alert("x")</script> & ]]> \\, \\; \\\\ ✨\r\n' in unfolded
    assert "DESCRIPTION:Line one\\,\\nline two\\; <b>not bold</b>\\n\\nHost: Ada <Lovelace>\r\n" in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 3


def test_ics_mine_gives_only_the_attendees_picks(event, conference, anon):
    hostile, plain, late = conference["proposals"]
    attendee, client, token = factories.join(event)
    for proposal in (hostile, late):
        vote_services.set_dots(attendee=attendee, proposal_id=proposal.pk, dots=1)

    by_header = _calendar(client.get(f"/api/events/{event.slug}/schedule.ics", {"mine": "1"}))
    anon.cookies["unconf_attendee"] = token
    by_cookie = _calendar(anon.get(f"/api/events/{event.slug}/schedule.ics", {"mine": "1"}))

    assert set(_events(by_header)) == {HOSTILE, "Day two session"}
    assert set(_events(by_cookie)) == {HOSTILE, "Day two session"}
    assert str(by_header["x-wr-calname"]) == f"{event.name} – my sessions"


def test_ics_mine_without_an_attendee_asks_to_join(event, conference, anon):
    response = _get(anon, event, "schedule.ics", mine="1")

    assert response.status_code == 401
    assert response.json()["code"] == "not_joined"


def test_calendar_clients_asking_for_text_calendar_get_it(event, conference, anon):
    response = anon.get(f"/api/events/{event.slug}/schedule.ics", HTTP_ACCEPT="text/calendar")

    assert response.status_code == 200
    assert len(_events(_calendar(response))) == 3


def test_ics_in_utc_needs_no_timezone_definition(event, org_client, anon, settings):
    settings.TIME_ZONE = "UTC"
    [proposal] = factories.make_proposals(event, 1)
    room = Room.objects.create(event=event, name="Hall", capacity=10)
    slot = Slot.objects.create(
        event=event,
        starts_at=dt.datetime(2030, 5, 1, 8, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.UTC),
    )
    ScheduledSession.objects.create(event=event, proposal=proposal, room=room, slot=slot)
    org_client.post(f"/api/events/{event.slug}/schedule/publish")

    response = _get(anon, event, "schedule.ics")

    [entry] = _calendar(response).walk("VEVENT")
    assert entry.decoded("dtstart") == dt.datetime(2030, 5, 1, 8, 0, tzinfo=dt.UTC)
    assert b"DTSTART:20300501T080000Z" in response.content
    assert b"VTIMEZONE" not in response.content


# --- frab XML --------------------------------------------------------------------------------


def _xml(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    return etree.fromstring(response.content)


def test_frab_xml_has_the_conference_days_rooms_and_events(event, conference, anon):
    hostile, plain, late = conference["proposals"]

    root = _xml(_get(anon, event, "schedule.xml"))

    assert root.tag == "schedule"
    conference_element = root.find("conference")
    assert {child.tag: child.text for child in conference_element} == {
        "acronym": event.slug,
        "title": event.name,
        "start": "2030-05-01",
        "end": "2030-05-02",
        "days": "2",
        "timeslot_duration": "00:15",
    }
    days = root.findall("day")
    assert [dict(day.attrib) for day in days] == [
        {
            "index": "1",
            "date": "2030-05-01",
            "start": "2030-05-01T10:00:00+02:00",
            "end": "2030-05-01T13:30:00+02:00",
        },
        {
            "index": "2",
            "date": "2030-05-02",
            "start": "2030-05-02T09:15:00+02:00",
            "end": "2030-05-02T10:00:00+02:00",
        },
    ]
    assert [room.get("name") for room in days[0].findall("room")] == ["Hall & Co", "Attic"]
    assert [e.get("id") for e in days[0].findall("room/event")] == [str(hostile.pk), str(plain.pk)]
    assert [e.get("id") for e in days[1].findall("room/event")] == [str(late.pk)]


def test_frab_xml_event_fields_carry_hostile_text_intact(event, conference, anon):
    hostile, plain, late = conference["proposals"]

    root = _xml(_get(anon, event, "schedule.xml"))

    [first] = root.xpath("day/room/event[@id=$id]", id=str(hostile.pk))
    fields = {child.tag: child.text for child in first if child.tag not in ("persons", "links")}
    assert fields == {
        "date": "2030-05-01T10:00:00+02:00",
        "start": "10:00",
        "duration": "00:45",
        "room": "Hall & Co",
        "slug": f"{event.slug}-{hostile.pk}",
        "title": HOSTILE,
        "subtitle": None,
        "track": None,
        "type": "Session",
        "language": None,
        "abstract": "Line one,\nline two; <b>not bold</b>",
        "description": None,
    }
    assert [p.text for p in first.find("persons")] == ["Ada <Lovelace>"]
    assert first.find("links/link").get("href") == f"http://testserver/e/{event.slug}/schedule/"
    [noon] = root.xpath("day/room/event[@id=$id]", id=str(plain.pk))
    assert noon.findtext("duration") == "01:30"
    assert list(noon.find("persons")) == []
    guids = root.xpath("day/room/event/@guid")
    assert len(set(guids)) == 3


def test_frab_xml_escapes_markup_and_drops_characters_xml_cannot_carry(event, conference, anon):
    hostile, plain, late = conference["proposals"]
    Proposal.objects.filter(pk=plain.pk).update(description="bell\x07 and vertical\x0btab")

    response = _get(anon, event, "schedule.xml")

    assert b"<script>" not in response.content
    [noon] = _xml(response).xpath("day/room/event[@id=$id]", id=str(plain.pk))
    assert noon.findtext("abstract") == "bell and verticaltab"


def test_frab_xml_mine_keeps_every_room_but_only_my_sessions(event, conference):
    hostile, plain, late = conference["proposals"]
    attendee, client, _ = factories.join(event)
    vote_services.set_dots(attendee=attendee, proposal_id=plain.pk, dots=1)

    root = _xml(client.get(f"/api/events/{event.slug}/schedule.xml", {"mine": "1"}))

    assert root.xpath("day/room/event/title/text()") == ["Plain talk"]
    assert root.xpath("day[1]/room/@name") == ["Hall & Co", "Attic"]


def test_organizers_can_export_a_draft_before_publishing(event, conference, org_client, anon):
    org_client.post(f"/api/events/{event.slug}/schedule/unpublish")

    assert len(_events(_calendar(_get(org_client, event, "schedule.ics")))) == 3
    assert _get(anon, event, "schedule.ics").status_code == 403
