"""The only code that talks to the channel layer: coalesced, versioned state for every socket.

Why it looks like this (see shared/PERFORMANCE.md): a Channels consumer per socket with its
own layer channel costs a subscription, a queue, a task and a thread hop per message, and
reaches a few percent of what the machine can deliver. So each process keeps ONE layer
channel, joined once per event that has local sockets, and fans every message out to its
own sockets itself; each message is serialised once per role (public / organizers).

Producers (services, on commit, from any thread) only mark an event dirty. A per-process
flusher builds at most `UNCONF_TALLY_PER_SECOND` messages per event: the first change after
a quiet spell goes out at once, later ones are folded into one message at the end of the
interval, built from the database after the last change, so the last message reflects it.
Every message carries a version read from the state it labels (snapshots.StateClock), in
the same database snapshot: whichever process sends it, a higher version never shows an
older state. A flushed message
goes to the layer (other processes) and straight to this process's sockets, so a dead layer
never silences the process where the change happened.

Every message also carries its clock's fingerprint (state part, tally part). A watchdog compares each watched event's fingerprint with what the local
sockets were last sent and resends when they differ, so sockets converge even when Redis was
down while another process made a change, or a deadline passed with nobody voting; a `tally`
whose state part is newer than the last snapshot sent here (its snapshot was overtaken on the
way) triggers a fresh local snapshot.
"""

import asyncio

from django.db import transaction

TALLY, STATE = 1, 2  # a state change (new snapshot) supersedes a pending tally

# Each process's hub (hub.py) registers here for its event loop (tests run several loops).
# Producers only mark an event dirty; they never import the hub, so every domain can
# announce its changes without depending on what the feed reads to build its messages.
hubs: dict[asyncio.AbstractEventLoop, object] = {}


def _mark(event_id: int, kind: int, me_stale: bool = False) -> None:
    # From any thread (request threads, on commit). No loop bound (a management command, a
    # sync test): nobody in this process is listening, and nothing is done.
    for loop, running in list(hubs.items()):
        if loop.is_closed():
            continue
        try:
            loop.call_soon_threadsafe(running.mark, event_id, kind, me_stale)
        except RuntimeError:  # the loop closed between the check and the call
            continue


def tally_changed(event_id: int) -> None:
    """Counts or participation changed (a vote, a join): coalesced into a `tally`."""
    _mark(event_id, TALLY)


def participation_changed(event_id: int) -> None:
    _mark(event_id, TALLY)


def state_changed(event_id: int, *, me_stale: bool = False) -> None:
    """Anything else changed (proposal, phase, schedule): a new `snapshot` for everyone.

    me_stale: the change moved some attendees' dots (refund, merge), so each attendee's
    socket adds a fresh `me`.
    """
    _mark(event_id, STATE, me_stale)


def on_commit_state_changed(event_id: int, *, me_stale: bool = False) -> None:
    """Announce a state change once the current transaction commits (never before, never undone)."""
    transaction.on_commit(lambda: state_changed(event_id, me_stale=me_stale), robust=True)


def on_commit_tally_changed(event_id: int) -> None:
    transaction.on_commit(lambda: tally_changed(event_id), robust=True)
