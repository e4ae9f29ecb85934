"""Open-loop HTTP load in a process of its own: aiohttp on uvloop, keep-alive connections.

Open loop: request i is due at t0 + i/rate whatever happened to the ones before, and its
latency is counted from when it was due, not from when the client got round to sending
it — so a server (or a client pool) that falls behind shows up in the latency instead of
quietly lowering the rate ("coordinated omission").

Two kinds of load: `votes` (PUT /api/events/<slug>/votes/<id> {"dots": 1} as the phone app
sends it: the attendee cookie, Django's CSRF cookie and header, the page's Origin; one new dot
per request, following analysis.vote_target) and `hello` (GET / on the
hello-world baseline). Requests alternate between the server ports: there is no load
balancer, the clients split themselves across the processes.
"""

import asyncio
import json
import secrets
import sys
import time
from collections import Counter

import numpy as np

from .analysis import percentiles, vote_target

OVERFLOW = -1  # not sent: too many requests already in flight (the server is far behind)
EXCEPTION = 0  # timeout, reset, refused


class VoteState:
    """Which vote comes next; kept across runs so that no (attendee, proposal) pair repeats."""

    def __init__(self, *, tokens, proposal_ids, budget, slug):
        self.tokens = tokens
        self.proposal_ids = proposal_ids
        self.budget = budget
        self.slug = slug
        self.next = 0


async def run_load(spec: dict, ports: list[int], votes: VoteState | None) -> dict:
    import aiohttp

    rate, seconds, kind = float(spec["rate"]), float(spec["seconds"]), spec["kind"]
    n = int(round(rate * seconds))
    max_inflight = int(spec.get("max_inflight", 4000))
    timeout = aiohttp.ClientTimeout(total=float(spec.get("timeout", 10.0)))
    label = spec.get("label", kind)
    first_vote = votes.next if votes else 0
    if votes is not None:
        available = len(votes.tokens) * min(votes.budget, len(votes.proposal_ids)) - votes.next
        n = max(0, min(n, available))
        votes.next += n
    index = np.arange(n, dtype=np.int64)
    attendee = np.full(n, -1, dtype=np.int64)
    proposal = np.full(n, -1, dtype=np.int64)
    port_of = np.zeros(n, dtype=np.int64)
    t_due = np.full(n, np.nan)
    t_sent = np.full(n, np.nan)
    t_done = np.full(n, np.nan)
    status = np.full(n, OVERFLOW, dtype=np.int64)
    body_ok = np.zeros(n, dtype=bool)
    errors: Counter = Counter()
    inflight = 0
    body = b'{"dots":1}'
    csrf = secrets.token_hex(16)  # a CSRF secret (32 characters), as the phone's cookie holds one

    connector = aiohttp.TCPConnector(
        limit=0, limit_per_host=int(spec.get("connections", 64)), keepalive_timeout=60
    )
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:

        async def one(i: int) -> None:
            nonlocal inflight
            inflight += 1
            try:
                if kind == "votes":
                    a, p = vote_target(
                        first_vote + i,
                        attendees=len(votes.tokens),
                        proposals=len(votes.proposal_ids),
                        budget=votes.budget,
                    )
                    pid = votes.proposal_ids[p]
                    attendee[i], proposal[i] = a, pid
                    port = ports[a % len(ports)]
                    url = f"http://127.0.0.1:{port}/api/events/{votes.slug}/votes/{pid}"
                    headers = {
                        "Accept": "application/json",
                        "Content-Type": "application/json",
                        "Cookie": f"unconf_attendee={votes.tokens[a]}; csrftoken={csrf}",
                        "X-CSRFToken": csrf,
                        "Origin": f"http://127.0.0.1:{port}",
                    }
                    request = session.put(url, data=body, headers=headers)
                else:
                    port = ports[i % len(ports)]
                    request = session.get(f"http://127.0.0.1:{port}/")
                port_of[i] = port
                t_sent[i] = time.monotonic()
                async with request as response:
                    payload = await response.read()
                    status[i] = response.status
                t_done[i] = time.monotonic()
                if response.status == 200:
                    body_ok[i] = _body_confirms(kind, payload, proposal[i])
                else:
                    errors[f"HTTP {response.status}: {payload[:80]!r}"] += 1
            except Exception as exc:  # the figure is the count of these, by kind
                t_done[i] = time.monotonic()
                status[i] = EXCEPTION
                errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            finally:
                inflight -= 1

        tasks = set()
        t0 = time.monotonic() + 0.05
        last_report = t0
        i = 0
        while i < n:
            now = time.monotonic()
            due = min(n, int((now - t0) * rate) + 1) if now >= t0 else 0
            while i < due:
                t_due[i] = t0 + i / rate
                if inflight >= max_inflight:
                    errors["client: too many requests in flight (not sent)"] += 1
                else:
                    task = asyncio.get_running_loop().create_task(one(i))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                i += 1
            if now - last_report >= 5.0:
                last_report = now
                _progress(label, i, n, status, t_due, t_done, now)
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        if tasks:
            await asyncio.wait(set(tasks), timeout=float(spec.get("timeout", 10.0)) + 5.0)
    return {
        "label": label,
        "kind": kind,
        "rate": rate,
        "seconds": seconds,
        "planned": int(round(rate * seconds)),
        "index": index + first_vote,
        "attendee": attendee,
        "proposal": proposal,
        "port": port_of,
        "t_due": t_due,
        "t_sent": t_sent,
        "t_done": t_done,
        "status": status,
        "body_ok": body_ok,
        "errors": dict(errors.most_common(10)),
    }


def _body_confirms(kind: str, payload: bytes, pid: int) -> bool:
    """A vote's 200 is the attendee's state: it must show the dot just set."""
    if kind != "votes":
        return payload.startswith(b"Hello")
    try:
        return json.loads(payload)["votes"].get(str(pid)) == 1
    except (ValueError, KeyError, AttributeError):
        return False


def _progress(label, sent, n, status, t_due, t_done, now) -> None:
    recent = (t_done > now - 5.0) & (status == 200)
    p = percentiles((t_done[recent] - t_due[recent]) * 1000.0, (50, 99))
    errors = int(((status == EXCEPTION) | (status >= 300)).sum())
    p99 = f"{p['p99']:.0f} ms" if p["p99"] is not None else "-"
    print(
        f"           {label}: {sent}/{n} sent, {int((status == 200).sum())} acked, {errors} errors, "
        f"ack p99 (last 5 s) {p99}",
        file=sys.stderr,
        flush=True,
    )


def main(conn, ports: list[int], vote_params: dict | None) -> None:
    """Process entry point (multiprocessing, spawn): one reply per `run` command."""
    import uvloop

    from .wsclient import raise_fd_limit

    raise_fd_limit()
    votes = VoteState(**vote_params) if vote_params else None
    while True:
        try:
            command = conn.recv()
        except (EOFError, OSError):
            return
        if command[0] != "run":
            conn.send({"closed": True})
            return
        conn.send(uvloop.run(run_load(command[1], ports, votes)))
