"""The schedule as files: JSON for programs, iCalendar for calendars, frab XML for conference apps.

All three are built from the same placed sessions as the API (`schedule.placed_sessions`:
published proposals only, by slot then room), optionally narrowed to one attendee's picks.
Attendee text stays text: the icalendar library escapes and folds it, ElementTree escapes
markup, and the few characters XML 1.0 cannot carry at all are dropped. Times carry their
time zone everywhere (the event's `time_zone`, with a VTIMEZONE in the calendar); a long
session ends with its last slot.
"""

import hashlib
import math
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
from django.utils import timezone

from voting.events.models import Event
from voting.schedule.board import (
    event_zone,
    placed_sessions,
    room_dict,
    rooms_of,
    shown_slots_of,
    slot_dict,
    spans_of,
)
from voting.schedule.models import Room, ScheduledSession, Slot

GENERATOR = "Unconf"
PRODID = "-//Unconf//Unconference schedule//EN"
SESSION_TYPE = "Session"

# Characters outside XML 1.0's Char production cannot be escaped, only left out.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ScheduleExport:
    event: Event
    rooms: list[Room]
    slots: list[Slot]
    sessions: list[ScheduledSession]
    schedule_url: str  # the public schedule page, absolute
    host: str
    zone: ZoneInfo  # the event's time zone: every time is given in it


def collect(
    event: Event, *, schedule_url: str, host: str, only: set[int] | None = None, organizer: bool = False
) -> ScheduleExport:
    """The rooms, slots and placed sessions of every published round (organizers: and the
    current draft); `only` narrows to those proposal ids."""
    rooms, slots = rooms_of(event), shown_slots_of(event, organizer=organizer)
    sessions = placed_sessions(event, rooms, slots)
    if only is not None:
        sessions = [s for s in sessions if s.proposal_id in only]
    rooms_by_id = {room.pk: room for room in rooms}
    slots_by_id = {slot.pk: slot for slot in slots}
    zone = event_zone(event)
    spans = spans_of(sessions, slots, zone)
    for session in sessions:  # no query per session
        session.room = rooms_by_id[session.room_id]
        session.slot = slots_by_id[session.slot_id]
        session.ends_at = slots_by_id[spans[session.proposal_id][-1]].ends_at  # a long session's end
    return ScheduleExport(event, rooms, slots, sessions, schedule_url, host, zone)


# --- JSON ------------------------------------------------------------------------------------


def schedule_json(export: ScheduleExport) -> dict:
    return {
        "event": {"slug": export.event.slug, "name": export.event.name},
        "published": export.event.schedule_published,
        "url": export.schedule_url,
        "time_zone": export.event.time_zone,
        "rooms": [room_dict(room) for room in export.rooms],
        "slots": [slot_dict(slot, export.zone) for slot in export.slots],
        "sessions": [
            {
                "proposal": s.proposal_id,
                "title": s.proposal.title,
                "description": s.proposal.description,
                "host_name": s.proposal.host_name,
                "room": s.room_id,
                "room_name": s.room.name,
                "slot": s.slot_id,
                "starts_at": timezone.localtime(s.slot.starts_at, export.zone).isoformat(),
                "ends_at": timezone.localtime(s.ends_at, export.zone).isoformat(),
            }
            for s in export.sessions
        ],
    }


# --- iCalendar -------------------------------------------------------------------------------


def session_uid(export: ScheduleExport, proposal_id: int) -> str:
    """Stable per session, so a re-imported calendar updates its events instead of doubling them."""
    return f"unconf-{export.event.slug}-{proposal_id}@{export.host}"


def schedule_ics(export: ScheduleExport, *, calendar_name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    calendar.add("x-wr-timezone", export.event.time_zone)
    stamp = timezone.now().replace(microsecond=0)
    zone = export.zone
    for s in export.sessions:
        entry = icalendar.Event()
        entry.add("uid", session_uid(export, s.proposal_id))
        entry.add("dtstamp", stamp)
        entry.add("dtstart", s.slot.starts_at.astimezone(zone))
        entry.add("dtend", s.ends_at.astimezone(zone))
        entry.add("summary", s.proposal.title)
        entry.add("location", s.room.name)
        details = [s.proposal.description] if s.proposal.description else []
        if s.proposal.host_name:
            details.append(f"Host: {s.proposal.host_name}")
        if details:
            entry.add("description", "\n\n".join(details))
        entry.add("url", export.schedule_url)
        calendar.add_component(entry)
    if export.sessions and export.event.time_zone != "UTC":
        first = min(s.slot.starts_at for s in export.sessions).date()
        last = max(s.ends_at for s in export.sessions).date()
        calendar.add_missing_timezones(
            first_date=first - timedelta(days=366), last_date=last + timedelta(days=366)
        )
    return calendar.to_ical()


# --- frab XML --------------------------------------------------------------------------------


def _xml_text(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value or "")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(str(v)) for k, v in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _hours_minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _timeslot_minutes(slots: list[Slot], zone: ZoneInfo) -> int:
    """The grid the slots sit on: gcd of their lengths and start minutes (15 when no slots)."""
    step = 60
    for slot in slots:
        step = math.gcd(step, int((slot.ends_at - slot.starts_at).total_seconds() // 60))
        step = math.gcd(step, timezone.localtime(slot.starts_at, zone).minute)
    return step if slots and step >= 5 else 15


def _version(export: ScheduleExport) -> str:
    """Changes whenever any placement, title or time changes, so room screens can compare."""
    digest = hashlib.sha256()
    for s in export.sessions:
        digest.update(
            f"{s.proposal_id}|{s.proposal.title}|{s.room.name}|{s.slot.starts_at}|{s.slot.ends_at};".encode()
        )
    return digest.hexdigest()[:12]


def session_guid(export: ScheduleExport, proposal_id: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{export.schedule_url}#session-{proposal_id}"))


def schedule_frab(export: ScheduleExport) -> bytes:
    """frab's schedule.xml: <schedule><conference/><day><room><event/></room></day></schedule>."""
    root = ET.Element("schedule")
    _sub(root, "generator", name=GENERATOR, version="1")
    _sub(root, "version", _version(export))
    conference = _sub(root, "conference")
    _sub(conference, "acronym", export.event.slug)
    _sub(conference, "title", export.event.name)

    def _local(moment):
        return timezone.localtime(moment, export.zone)

    days: dict = {}
    for slot in export.slots:
        days.setdefault(_local(slot.starts_at).date(), []).append(slot)
    if days:
        _sub(conference, "start", min(days).isoformat())
        _sub(conference, "end", max(days).isoformat())
        _sub(conference, "days", str(len(days)))
    _sub(
        conference,
        "timeslot_duration",
        _hours_minutes(timedelta(minutes=_timeslot_minutes(export.slots, export.zone))),
    )

    by_room_and_day: dict[tuple, list[ScheduledSession]] = {}
    for s in export.sessions:
        by_room_and_day.setdefault((s.room_id, _local(s.slot.starts_at).date()), []).append(s)
    for index, (date, day_slots) in enumerate(sorted(days.items()), start=1):
        day = _sub(
            root,
            "day",
            index=index,
            date=date.isoformat(),
            start=_local(min(t.starts_at for t in day_slots)).isoformat(),
            end=_local(max(t.ends_at for t in day_slots)).isoformat(),
        )
        for room in export.rooms:
            room_element = _sub(day, "room", name=room.name)
            for s in sorted(by_room_and_day.get((room.pk, date), []), key=lambda s: s.slot.starts_at):
                _frab_event(room_element, export, s)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _frab_event(parent: ET.Element, export: ScheduleExport, s: ScheduledSession) -> None:
    start = timezone.localtime(s.slot.starts_at, export.zone)
    event = _sub(parent, "event", guid=session_guid(export, s.proposal_id), id=s.proposal_id)
    _sub(event, "date", start.isoformat())
    _sub(event, "start", f"{start:%H:%M}")
    _sub(event, "duration", _hours_minutes(s.ends_at - s.slot.starts_at))
    _sub(event, "room", s.room.name)
    _sub(event, "slug", f"{export.event.slug}-{s.proposal_id}")
    _sub(event, "title", s.proposal.title)
    _sub(event, "subtitle", "")
    _sub(event, "track", "")
    _sub(event, "type", SESSION_TYPE)
    _sub(event, "language", "")
    _sub(event, "abstract", s.proposal.description)
    _sub(event, "description", "")
    persons = _sub(event, "persons")
    if s.proposal.host_name:
        _sub(persons, "person", s.proposal.host_name)
    links = _sub(event, "links")
    _sub(links, "link", "Schedule", href=export.schedule_url)
