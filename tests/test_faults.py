"""Faults in the middle of a vote storm, with real Daphne processes and real PostgreSQL:
a Daphne killed with SIGKILL, every database connection dropped, PostgreSQL restarted.

In every case: no vote that was answered 200 is ever lost, the surviving processes keep
answering (a 503 `unavailable` while the database is away, never a hang or a 500), and
everything recovers on its own within 2 s: votes are stored again and every screen shows the
database's counts. A phone replays what was not answered 200 (PUT sets, so a replay is safe);
after the replays every vote is stored exactly once.

The restart runs on a private, throw-away PostgreSQL cluster of this test (the machine's own
server is shared and is never stopped); it is skipped only where PostgreSQL's server binaries
are not installed at all.
"""

import glob
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote

import psycopg2
import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from tests import factories, live
from tests.feed_support import close_sync_thread_connections
from tests.live import ROOT, DaphneServer, free_port

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

SHARED_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RECOVERY_SECONDS = 2.0


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


# --- the storm -------------------------------------------------------------------------------------


@dataclass
class Answer:
    token: str
    proposal: int
    server: str
    status: int | str  # an HTTP status, or the name of the connection error
    sent_at: float
    answered_at: float


def put_vote(url: str, slug: str, token: str, proposal: int, timeout: float = 10) -> int | str:
    request = urllib.request.Request(
        f"{url}/api/events/{slug}/votes/{proposal}",
        data=b'{"dots": 1}',
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Attendee {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        body = json.loads(error.read() or b"{}")
        if error.code == 503:
            assert body.get("code") == "unavailable" and error.headers["Retry-After"], body
        return error.code
    except (OSError, urllib.error.URLError) as error:
        return type(getattr(error, "reason", error)).__name__


class Storm:
    """`threads` clients voting as fast as answers come, each vote to the servers in turn; the
    votes are sent at least once each, and again from the start until `stop()` (PUT sets dots,
    so a vote sent twice is stored once)."""

    def __init__(self, slug: str, votes: list[tuple[str, int]], servers: list[str], threads: int = 8):
        self.slug, self.votes, self.servers, self.threads = slug, votes, servers, threads
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.sent = 0
        self.stopping = threading.Event()
        self.runners: list[threading.Thread] = []

    def _client(self) -> None:
        while True:
            with self.lock:
                index = self.sent
                if index >= len(self.votes) and self.stopping.is_set():
                    return
                self.sent += 1
            token, proposal = self.votes[index % len(self.votes)]
            server = self.servers[index % len(self.servers)]
            sent_at = time.monotonic()
            status = put_vote(server, self.slug, token, proposal)
            with self.lock:
                self.answers.append(Answer(token, proposal, server, status, sent_at, time.monotonic()))

    def start(self) -> "Storm":
        self.runners = [threading.Thread(target=self._client) for _ in range(self.threads)]
        for runner in self.runners:
            runner.start()
        return self

    def wait_until_answered(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answers) < count:
            assert time.monotonic() < deadline, f"only {len(self.answers)} answers"
            time.sleep(0.01)

    def stop_at(self, moment: float) -> list[Answer]:
        """Keep voting until `moment` (monotonic), then finish; every answer, in order."""
        time.sleep(max(0.0, moment - time.monotonic()))
        self.stopping.set()
        for runner in self.runners:
            runner.join(timeout=120)
        return sorted(self.answers, key=lambda a: a.answered_at)


def replay_until_stored(answers: list[Answer], server: str, slug: str) -> list[int | str]:
    """What a phone does with a vote that was not answered 200: send it again."""
    acknowledged = {(a.token, a.proposal) for a in answers if a.status == 200}
    unanswered = {(a.token, a.proposal) for a in answers} - acknowledged
    return [put_vote(server, slug, token, proposal) for token, proposal in sorted(unanswered)]


# --- what the database holds -------------------------------------------------------------------------


def stored_votes(dsn: str, slug: str) -> dict[tuple[str, int], int]:
    """(token hash, proposal) -> dots, read on a connection of its own."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT a.token_hash, v.proposal_id, v.dots FROM voting_vote v"
            " JOIN voting_attendee a ON a.id = v.attendee_id JOIN voting_event e ON e.id = v.event_id"
            " WHERE e.slug = %s",
            [slug],
        )
        rows = cursor.fetchall()
    conn.close()
    return {(token_hash, proposal): dots for token_hash, proposal, dots in rows}


def counts(dsn: str, slug: str) -> dict[str, dict[str, int]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.dots, p.voters FROM voting_proposal p JOIN voting_event e ON e.id = p.event_id"
            " WHERE e.slug = %s AND p.status = 'published'",
            [slug],
        )
        rows = cursor.fetchall()
    conn.close()
    return {str(pid): {"dots": dots, "voters": voters} for pid, dots, voters in rows}


def hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lost_acknowledged(answers: list[Answer], stored: dict) -> list[Answer]:
    return [a for a in answers if a.status == 200 and stored.get((hashed(a.token), a.proposal)) != 1]


def libpq_dsn(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"host={parts.hostname} port={parts.port or 5432} user={parts.username or 'postgres'} dbname={parts.path[1:]}"


# --- a screen ------------------------------------------------------------------------------------------


async def screen_converges(server: DaphneServer, slug: str, expected: dict, timeout: float) -> float:
    """Seconds until a fresh or already open socket on `server` shows `expected` (the database)."""
    from websockets.asyncio.client import connect

    started = time.monotonic()
    async with connect(f"{server.ws_url}/ws/events/{slug}/", origin=server.url, proxy=None) as socket:
        while time.monotonic() - started < timeout:
            try:
                import asyncio

                message = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
            except TimeoutError:
                await socket.send(json.dumps({"type": "resync"}))
                continue
            shown = message.get("counts")
            if message["type"] == "snapshot":
                shown = {
                    str(p["id"]): {"dots": p["dots"], "voters": p["voters"]} for p in message["proposals"]
                }
            if shown == expected:
                return time.monotonic() - started
    raise AssertionError(f"no message on {server.url} showed the database's counts within {timeout}s")


def arrange(attendees: int, proposals: int):
    event = factories.make_event(votes_per_attendee=proposals)
    made = factories.make_proposals(event, proposals)
    tokens = [factories.join(event)[2] for _ in range(attendees)]
    votes = [(token, p.pk) for token in tokens for p in made]
    return event, votes


def report(capsys, label: str, answers: list[Answer], **figures) -> None:
    statuses: dict = {}
    for a in answers:
        statuses[a.status] = statuses.get(a.status, 0) + 1
    with capsys.disabled():
        print(
            f"\n  {label}: {len(answers)} votes, answers {statuses}; "
            + ", ".join(f"{k} {v}" for k, v in figures.items())
        )


# --- 1. a Daphne killed -------------------------------------------------------------------------------


async def test_a_daphne_killed_mid_storm_loses_no_acknowledged_vote_and_the_other_keeps_answering(capsys):
    event, votes = await sync_to_async(arrange)(150, 8)
    a, b = DaphneServer(redis_url=SHARED_REDIS_URL), DaphneServer(redis_url=SHARED_REDIS_URL)
    await sync_to_async(lambda: [s.start() for s in (a, b)])()
    dsn = libpq_dsn(live.test_database_url())
    try:
        storm = Storm(event.slug, votes, [a.url, b.url]).start()
        await sync_to_async(storm.wait_until_answered)(len(votes) // 4)
        killed_at = time.monotonic()
        a.process.send_signal(signal.SIGKILL)
        answers = await sync_to_async(storm.stop_at)(killed_at + 3)
        after_kill_on_b = [x for x in answers if x.server == b.url and x.sent_at >= killed_at]
        replays = await sync_to_async(replay_until_stored)(answers, b.url, event.slug)
        stored = await sync_to_async(stored_votes)(dsn, event.slug)
        converged = await screen_converges(b, event.slug, await sync_to_async(counts)(dsn, event.slug), 5)
    finally:
        await sync_to_async(lambda: [s.stop() for s in (a, b)])()

    report(
        capsys,
        "SIGKILL of one of two Daphnes",
        answers,
        slowest_answer_of_survivor_after_kill=f"{max(x.answered_at - x.sent_at for x in after_kill_on_b):.2f}s",
        screen_on_survivor_converged=f"{converged:.2f}s",
    )
    assert lost_acknowledged(answers, stored) == []
    assert {x.status for x in answers if x.server == b.url} == {200}  # the survivor answered every vote
    assert max(x.answered_at - x.sent_at for x in after_kill_on_b) < RECOVERY_SECONDS
    assert set(replays) <= {200}
    assert stored == {(hashed(token), proposal): 1 for token, proposal in votes}  # replays: all, once
    assert converged < RECOVERY_SECONDS


# --- 2. every database connection dropped ---------------------------------------------------------------


def drop_every_connection(dsn: str) -> int:
    """pg_terminate_backend on every connection to this test's own database (never another's)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        dropped = cursor.fetchone()[0]
    conn.close()
    return dropped


@pytest.fixture
def _reconnect_afterwards(transactional_db):
    """The test's own connections are dropped too: pytest-django cleans up on new ones."""
    yield
    for conn in connections.all(initialized_only=True):
        conn.close()


@pytest.mark.usefixtures("_reconnect_afterwards")
async def test_dropping_every_database_connection_mid_storm_loses_nothing_and_recovers_within_2s(capsys):
    event, votes = await sync_to_async(arrange)(150, 8)
    a, b = DaphneServer(redis_url=SHARED_REDIS_URL), DaphneServer(redis_url=SHARED_REDIS_URL)
    await sync_to_async(lambda: [s.start() for s in (a, b)])()
    dsn = libpq_dsn(live.test_database_url())
    await close_sync_thread_connections()
    try:
        storm = Storm(event.slug, votes, [a.url, b.url]).start()
        await sync_to_async(storm.wait_until_answered)(len(votes) // 4)
        dropped_at = time.monotonic()
        dropped = await sync_to_async(drop_every_connection)(dsn)
        answers = await sync_to_async(storm.stop_at)(dropped_at + 3)
        replays = await sync_to_async(replay_until_stored)(answers, a.url, event.slug)
        stored = await sync_to_async(stored_votes)(dsn, event.slug)
        expected = await sync_to_async(counts)(dsn, event.slug)
        converged = [await screen_converges(s, event.slug, expected, 5) for s in (a, b)]
    finally:
        await sync_to_async(lambda: [s.stop() for s in (a, b)])()

    failed_after = [x for x in answers if x.status != 200 and x.sent_at >= dropped_at]
    recovered_in = max((x.answered_at - dropped_at for x in failed_after), default=0.0)
    report(
        capsys,
        "pg_terminate_backend of every connection",
        answers,
        dropped=dropped,
        last_refusal_after=f"{recovered_in:.2f}s",
        screens_converged=f"{max(converged):.2f}s",
    )
    assert dropped >= 2  # at least each process's connections
    assert lost_acknowledged(answers, stored) == []
    assert {x.status for x in answers} <= {200, 503}  # answered, and never a 500
    assert recovered_in < RECOVERY_SECONDS
    assert set(replays) <= {200}
    assert stored == {(hashed(token), proposal): 1 for token, proposal in votes}
    assert max(converged) < RECOVERY_SECONDS


# --- 3. PostgreSQL restarted (a private cluster) ----------------------------------------------------------


def postgres_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, trust auth, removed afterwards."""

    def __init__(self, bindir: str):
        self.bindir, self.port = bindir, free_port()
        self.dir = tempfile.mkdtemp(prefix="unconf-pg-")
        self.data = os.path.join(self.dir, "data")
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/unconf"

    def run(self, *args: str) -> None:
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self.run(
            f"{self.bindir}/pg_ctl", "-D", self.data, "-l", f"{self.dir}/log", "-o", options, "-w", *args
        )

    def start(self) -> "PrivatePostgres":
        self.run(f"{self.bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.pg_ctl("start")
        self.run(f"{self.bindir}/createdb", "-h", self.dir, "-p", str(self.port), "-U", "postgres", "unconf")
        return self

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


def manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("UNCONF_TEST_DB_NAME", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


ARRANGE_ON_PRIVATE_CLUSTER = """
import json
from tests import factories
event = factories.make_event(votes_per_attendee=8)
proposals = factories.make_proposals(event, 8)
tokens = [factories.join(event)[2] for _ in range(150)]
print(json.dumps({"slug": event.slug, "votes": [[t, p.pk] for t in tokens for p in proposals]}))
"""


async def test_a_postgresql_restart_mid_storm_loses_nothing_and_recovers_within_2s(capsys):
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    cluster = await sync_to_async(PrivatePostgres(bindir).start)()
    servers: list[DaphneServer] = []
    try:
        await sync_to_async(manage)(cluster.url, "migrate", "--noinput", "-v", "0")
        arranged = json.loads(
            (
                await sync_to_async(manage)(cluster.url, "shell", "-c", ARRANGE_ON_PRIVATE_CLUSTER)
            ).splitlines()[-1]
        )
        slug, votes = arranged["slug"], [tuple(v) for v in arranged["votes"]]
        options = quote("-c timezone=UTC")
        env = {"DATABASE_URL": f"{cluster.url}?options={options}"}
        servers = [DaphneServer(redis_url=SHARED_REDIS_URL, env=env) for _ in range(2)]
        await sync_to_async(lambda: [s.start() for s in servers])()
        storm = Storm(slug, votes, [s.url for s in servers]).start()
        await sync_to_async(storm.wait_until_answered)(len(votes) // 4)
        down_at = time.monotonic()
        await sync_to_async(cluster.pg_ctl)("-m", "fast", "restart")
        up_at = time.monotonic()
        answers = await sync_to_async(storm.stop_at)(up_at + 3)
        health = [await sync_to_async(urllib.request.urlopen)(f"{s.url}/healthz", timeout=5) for s in servers]
        replays = await sync_to_async(replay_until_stored)(answers, servers[0].url, slug)
        dsn = libpq_dsn(cluster.url)
        stored = await sync_to_async(stored_votes)(dsn, slug)
        expected = await sync_to_async(counts)(dsn, slug)
        converged = [await screen_converges(s, slug, expected, 5) for s in servers]
    finally:
        await sync_to_async(lambda: [s.stop() for s in servers])()
        await sync_to_async(cluster.stop)()

    failed_after_up = [x for x in answers if x.status != 200 and x.sent_at >= up_at]
    recovered_in = max((x.answered_at - up_at for x in failed_after_up), default=0.0)
    during = [x for x in answers if down_at <= x.sent_at < up_at]
    report(
        capsys,
        "PostgreSQL restart",
        answers,
        down=f"{up_at - down_at:.2f}s",
        answered_while_down=len(during),
        last_refusal_after_restart=f"{recovered_in:.2f}s",
        screens_converged=f"{max(converged):.2f}s",
    )
    assert lost_acknowledged(answers, stored) == []
    assert {x.status for x in answers} <= {200, 503}
    assert all(x.answered_at - x.sent_at < 5 for x in answers)  # answered, even while it was down
    assert recovered_in < RECOVERY_SECONDS
    assert [h.status for h in health] == [200, 200]
    assert set(replays) <= {200}
    assert stored == {(hashed(token), proposal): 1 for token, proposal in votes}
    assert max(converged) < RECOVERY_SECONDS
