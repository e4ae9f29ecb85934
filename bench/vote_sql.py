"""The vote inside PostgreSQL, the previous release against this one (`make bench-vote-sql`).

Issue 13 moved the counters out of the vote function into a trigger on the vote rows. This
builds two databases — one migrated to the previous schema (0004: `unconf_set_dots` moved the
counters itself), one to the current one (a trigger moves them) — seeds the same event in
both, and times one client calling `unconf_vote` in autocommit (as the phone's vote does),
each call a change (a dot put, then taken back). The two alternate in rounds so that machine
noise falls on both alike; it prints the median time per vote of each and their ratio.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASES = {"previous (0004)": "unconf_bench_vote_previous", "current": "unconf_bench_vote_current"}
TARGETS = {"previous (0004)": ["voting", "0004_attendee_by_event_token"], "current": []}
ATTENDEES, PROPOSALS, ROUNDS = 400, 5, 8


def prepare(name: str, database: str) -> None:
    admin = psycopg2.connect(f"{SERVER}/postgres")
    admin.autocommit = True  # CREATE/DROP DATABASE run outside a transaction
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
        cursor.execute(f'CREATE DATABASE "{database}"')
    admin.close()
    env = {**os.environ, "DATABASE_URL": f"{SERVER}/{database}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", *TARGETS[name]], cwd=ROOT, env=env, check=True
    )
    if name == "current":  # today's schema, seeded through the models it has
        subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True)
        return
    with psycopg2.connect(f"{SERVER}/{database}") as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO voting_event (slug, name, identity_mode, join_code, votes_per_attendee,"
            " max_dots_per_proposal, tally_visibility, moderation, accepting_proposals, voting_open,"
            " results_revealed, schedule_published, created_at) VALUES ('bench', 'Bench',"
            " 'open', 'BENCH1', 5, 1, 'live', 'post', true, true, false, false, now()) RETURNING id"
        )
        event = cursor.fetchone()[0]
        for k in range(PROPOSALS):
            cursor.execute(
                "INSERT INTO voting_proposal (event_id, title, description, host_name, status, dots, voters,"
                " created_at, updated_at) VALUES (%s, %s, '', '', 'published', 0, 0, now(), now())",
                [event, f"Session {k}"],
            )
        for k in range(ATTENDEES):
            cursor.execute(
                "INSERT INTO voting_attendee (event_id, public_id, token_hash, display_name, created_at)"
                " VALUES (%s, %s, %s, '', now())",
                [event, f"a_bench{k}", f"hash{k}"],
            )
        cursor.execute("ANALYZE")


SEED = f"""
from voting.events.models import Attendee, Event
from voting.proposals.models import Proposal
event = Event.objects.create(slug="bench", name="Bench", join_code="BENCH1", voting_open=True)
for k in range({PROPOSALS}):
    Proposal.objects.create(event=event, title=f"Session {{k}}")
Attendee.objects.bulk_create(
    Attendee(event=event, public_id=f"a_bench{{k}}", token_hash=f"hash{{k}}") for k in range({ATTENDEES})
)
from django.db import connection
connection.cursor().execute("ANALYZE")
"""


def one_round(database: str, dots: int) -> float:
    """Seconds per vote: every attendee sets `dots` on their proposal, one call each."""
    conn = psycopg2.connect(f"{SERVER}/{database}")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT id FROM voting_proposal ORDER BY id")
        proposals = [row[0] for row in cursor.fetchall()]
        started = time.perf_counter()
        for k in range(ATTENDEES):
            cursor.execute(
                "SELECT outcome FROM unconf_vote('bench', %s, %s, %s, now())",
                [f"hash{k}", proposals[k % PROPOSALS], dots],
            )
            assert cursor.fetchone()[0] == "changed"
        elapsed = time.perf_counter() - started
    conn.close()
    return elapsed / ATTENDEES


def main() -> None:
    for name, database in DATABASES.items():
        prepare(name, database)
    timings = {name: [] for name in DATABASES}
    for round_ in range(ROUNDS):
        for name, database in DATABASES.items():
            timings[name].append(one_round(database, 1 - round_ % 2 if round_ else 1))
    # Round 0 puts dots, round 1 takes them back, and so on: every call changes a vote.
    medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    print(f"One client, {ATTENDEES} votes per round, {ROUNDS} rounds alternating between the two schemas:")
    for name, ms in medians.items():
        rounds = " ".join(f"{v * 1000:.2f}" for v in timings[name])
        print(f"  {name:16} {ms:.3f} ms per vote (median of rounds; rounds: {rounds})")
    ratio = medians["current"] / medians["previous (0004)"]
    print(f"  current / previous: {ratio:.2f}x")


if __name__ == "__main__":
    main()
