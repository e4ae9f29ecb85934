"""The database limit: one vote row INSERTed per transaction, same unique constraint, durable.

Several client threads (psycopg2 releases the GIL while it waits for the server) insert
distinct (attendee, proposal) pairs, each in its own committed transaction with
`synchronous_commit` as configured (on): the rate PostgreSQL on this machine gives a vote
that does nothing but get stored.
"""

import threading
import time

import psycopg2

TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_vote (
    id bigserial PRIMARY KEY,
    attendee_id bigint NOT NULL,
    proposal_id bigint NOT NULL,
    dots smallint NOT NULL CHECK (dots >= 1),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bench_raw_vote_one_per_pair UNIQUE (attendee_id, proposal_id)
)
"""


def measure(dsn: str, *, clients: int = 8, seconds: float = 5.0) -> dict:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_vote")
        cur.execute(TABLE)
    conn.close()
    counts = [0] * clients
    errors = [0] * clients
    ready = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(k: int) -> None:
        c = psycopg2.connect(dsn)
        c.autocommit = True  # one INSERT, one transaction, one commit
        cur = c.cursor()
        ready.wait()
        n = 0
        while time.monotonic() < stop_at[0]:
            try:
                cur.execute(
                    "INSERT INTO bench_raw_vote (attendee_id, proposal_id, dots) VALUES (%s, %s, 1)",
                    (k * 10_000_000 + n, n % 40),
                )
                counts[k] += 1
            except psycopg2.Error:
                errors[k] += 1
            n += 1
        c.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + 1e9
    ready.wait()
    started = time.monotonic()
    stop_at[0] = started + seconds
    for t in threads:
        t.join(seconds + 30)
    elapsed = time.monotonic() - started
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM bench_raw_vote")
        stored = cur.fetchone()[0]
        cur.execute("DROP TABLE bench_raw_vote")
    conn.close()
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "inserted": sum(counts),
        "stored": stored,
        "errors": sum(errors),
        "rate": sum(counts) / elapsed,
    }
