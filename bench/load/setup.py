"""The bench database: created fresh, migrated, filled fast; and read back for the checks.

Django is set up in the harness process only (the client processes never import it).
Attendees are inserted in bulk with tokens the harness knows, stored the way the product
stores them (`voting.events.models.hash_token`); everything after that goes through the real
HTTP API and websockets.
"""

import os
import secrets
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg2

from .procs import ROOT


def admin_dsn(database_url: str) -> tuple[str, str]:
    """A DSN for the server's `postgres` database, and the bench database's name."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    user = parts.username or "postgres"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 5432
    password = f" password={parts.password}" if parts.password else ""
    return f"host={host} port={port} user={user} dbname=postgres{password}", name


def dsn(database_url: str) -> str:
    admin, name = admin_dsn(database_url)
    return admin.replace("dbname=postgres", f"dbname={name}")


def recreate_database(database_url: str, env: dict) -> None:
    admin, name = admin_dsn(database_url)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": database_url},
        check=True,
    )


def django_setup(database_url: str, redis_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "unconf.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    import django

    django.setup()


def create_event(*, slug: str, proposals: int, attendees: int, budget: int) -> dict:
    """An open event with voting open, `proposals` published proposals and `attendees` attendees."""
    from voting.events.models import Attendee, Event, hash_token
    from voting.proposals.models import Proposal

    from .payloads import proposal_texts

    event = Event.objects.create(
        slug=slug,
        name="Load benchmark",
        votes_per_attendee=budget,
        max_dots_per_proposal=1,
        voting_open=True,
    )
    rows = Proposal.objects.bulk_create(Proposal(event=event, **text) for text in proposal_texts(proposals))
    tokens = [secrets.token_urlsafe(32) for _ in range(attendees)]
    people = Attendee.objects.bulk_create(
        (
            Attendee(event=event, token_hash=hash_token(token), display_name=f"Attendee {i + 1}")
            for i, token in enumerate(tokens)
        ),
        batch_size=2000,
    )
    return {
        "slug": slug,
        "event_id": event.pk,
        "proposal_ids": [p.pk for p in rows],
        "attendee_ids": [a.pk for a in people],
        "tokens": tokens,
        "budget": budget,
    }


def read_outcome(event_id: int) -> dict:
    """What the database holds at the end: vote rows, counters, recount, ledger replay, participation."""
    from voting.events.models import Event
    from voting.feed import snapshots
    from voting.proposals.models import Proposal, ProposalStatus
    from voting.votes import services as vote_services
    from voting.votes.models import LedgerEntry, Vote

    event = Event.objects.get(pk=event_id)
    pairs = set(Vote.objects.filter(event=event).values_list("attendee_id", "proposal_id"))
    counters = {
        pk: (dots, voters)
        for pk, dots, voters in Proposal.objects.filter(
            event=event, status=ProposalStatus.PUBLISHED
        ).values_list("id", "dots", "voters")
    }
    recount = {pid: (c["dots"], c["voters"]) for pid, c in Vote.objects.filter(event=event).recount().items()}
    entries = list(LedgerEntry.objects.filter(event=event).order_by("id"))
    replay = {pid: (c["dots"], c["voters"]) for pid, c in vote_services.replay_ledger(entries).items()}
    # The proposal's count right after each vote: ledger rows of one proposal are written in
    # commit order (the vote's UPDATE of the proposal row holds its lock until commit).
    running: dict[int, int] = {}
    count_after: dict[tuple[int, int], int] = {}
    for entry in entries:
        running[entry.proposal_id] = running.get(entry.proposal_id, 0) + entry.dots_after - entry.dots_before
        if entry.dots_after > entry.dots_before:
            count_after[(entry.attendee_id, entry.proposal_id)] = running[entry.proposal_id]
    for pid in counters:
        recount.setdefault(pid, (0, 0))
        replay.setdefault(pid, (0, 0))
    return {
        "pairs": pairs,
        "counters": counters,
        "recount": recount,
        "replay": replay,
        "count_after": count_after,
        "participation": snapshots.participation(event),
        "ledger_entries": len(entries),
    }
