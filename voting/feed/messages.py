"""What goes out on the feed: a message built from the database, versioned by the state it shows.

The hub (hub.py) calls these from a worker thread; they never touch sockets or the layer."""

import json
import time

from django.db import connection, transaction

from voting.events.models import Event
from voting.feed import snapshots
from voting.feed.broadcast import STATE, TALLY

__all__ = ["STATE", "TALLY", "build_message", "fingerprint_now"]


def fingerprint_now(event_id: int) -> list | None:
    """[state, tally] as the database stands now (None: no such event); see snapshots.StateClock."""
    clock = snapshots.state_clock(event_id)
    return None if clock is None else clock.fingerprint


def build_message(event_id: int, kind: int, me_stale: bool = False) -> dict | None:
    """The clock first, then the state, in one database snapshot: the version is read from
    the state it labels, so a higher version never shows older counts, whichever process
    built it, and two messages with one version show one state. Builds only read: a passed
    deadline is derived (Event.voting_is_open), never written here."""
    read_at = time.time()  # every change committed before this is in what is read below
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        clock = snapshots.state_clock(event_id)  # the first read fixes the snapshot
        event = Event.objects.filter(pk=event_id).first()
        if clock is None or event is None:
            return None
        if kind == STATE:
            messages = snapshots.build_snapshots(event, clock.version)
        else:
            messages = snapshots.build_tally(event, clock.version)
    return {
        "type": "unconf.broadcast",
        "event": event_id,
        "kind": kind,
        "version": clock.version,
        "read_at": read_at,
        "fingerprint": clock.fingerprint,
        "me_stale": me_stale,
        "budget": event.votes_per_attendee,
        "public": json.dumps(messages[snapshots.PUBLIC], separators=(",", ":")),
        "organizers": json.dumps(messages[snapshots.ORGANIZERS], separators=(",", ":")),
    }
