"""The public schedule page (no script needed)."""

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from voting.day.services import stars_of
from voting.events.identity import ATTENDEE_COOKIE, attendee_from_token
from voting.events.models import Event
from voting.events.rounds import voted_in_any_round
from voting.feed.snapshots import schedule_state
from voting.schedule.board import schedule_visible

# Static files the phone needs to start; the service worker keeps a copy for offline reloads.


def _schedule_rows(schedule: dict, picks: set[int]) -> tuple[list[dict], int]:
    """One row per slot in time order, one cell per room (a session or free), my picks flagged.

    Every row has the rooms in the same order, so on a wide screen the cells line up as a grid
    (rooms as columns); on a phone the free cells are left out.
    """
    by_place = {  # a long session fills each of its slots
        (slot_id, session["room"]): session
        for session in schedule["sessions"]
        for slot_id in session["slots"]
    }
    rows, clashes = [], 0
    for slot in schedule["slots"]:
        cells = []
        for room in schedule["rooms"]:
            session = by_place.get((slot["id"], room["id"]))
            cells.append(
                {
                    "room": room["name"],
                    "title": session["title"] if session else "",
                    "mine": bool(session) and session["proposal"] in picks,
                }
            )
        mine = sum(cell["mine"] for cell in cells)
        clashes += mine > 1
        rows.append({"slot": slot, "cells": cells, "busy": any(c["title"] for c in cells), "clash": mine > 1})
    return rows, clashes


def _round_parts(schedule: dict, organizer: bool) -> list[dict]:
    """What the page shows, one part per round: with a single round, the schedule as it is;
    with several, every round that may be shown (each under its name), earlier ones first.
    The current round's draft is for organizers only (contract 5.1: every published round)."""
    rounds = schedule.get("rounds") or []
    current = {
        "name": "",
        "current": True,
        "slots": schedule["slots"],
        "sessions": schedule["sessions"],
        "rooms": schedule["rooms"],
    }
    if len(rounds) <= 1:
        return [current]
    parts = []
    for index, round_ in enumerate(rounds):
        is_current = index == len(rounds) - 1  # rounds start one after another
        if is_current:
            if organizer or schedule["published"]:
                parts.append({**current, "name": round_["name"]})
        elif round_["published"] or organizer:
            parts.append(
                {
                    "name": round_["name"],
                    "current": False,
                    "slots": round_["slots"],
                    "sessions": round_["sessions"],
                    "rooms": schedule["rooms"],
                }
            )
    return parts


def schedule_page(request, slug):
    """The published schedule; an attendee's own picks highlighted and clashes flagged. When
    the event ran several rounds, each round's schedule shows under the round's name."""
    event = get_object_or_404(Event, slug=slug)
    attendee = attendee_from_token(event, request.COOKIES.get(ATTENDEE_COOKIE, ""))
    organizer = event.is_organizer(request.user)
    context = {"event": event, "attendee": attendee}
    if not (organizer or schedule_visible(event)):
        return render(request, "voting/schedule_unpublished.html", context, status=404)
    schedule = schedule_state(event, organizer=organizer)
    picks = set()
    if attendee is not None:
        picks = voted_in_any_round(attendee.pk) | set(stars_of(attendee))  # my picks: voted or starred
    parts, clashes = [], 0
    for part in _round_parts(schedule, organizer):
        for slot in part["slots"]:
            slot["start"] = parse_datetime(slot["starts_at"])
            slot["end"] = parse_datetime(slot["ends_at"])
        rows, part_clashes = _schedule_rows(part, picks)
        clashes += part_clashes
        parts.append({"name": part["name"], "current": part["current"], "rows": rows})
    context.update(
        {
            "parts": parts,
            "clashes": clashes,
            "picks": sum(cell["mine"] for part in parts for row in part["rows"] for cell in row["cells"]),
            "published": schedule["published"],
            "draft": organizer and not schedule["published"],
            "has_sessions": any(row["busy"] for part in parts for row in part["rows"]),
        }
    )
    with timezone.override(event.time_zone):  # times in the event's zone, as on every page
        return render(request, "voting/schedule.html", context)
