"""The whole benchmark, in order: the limits, then the product under a join storm, a vote storm
and a ramp, then the checks, the table and the plot. See __main__.py for the options.
"""

import contextlib
import math
import multiprocessing
import os
import select
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import analysis, httpload, pgbaseline, procs, report, setup, wsclient
from .analysis import Check, RampStep, percentiles
from .procs import ROOT, CpuMeter, Server, free_port, rss_kb, start_daphne, wait_http

T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Config:
    mode: str
    sockets: int
    storm_seconds: float
    storm_rate: float
    attendees: int
    proposals: int = 40
    budget: int = 5
    daphne_procs: int = 2
    subscriber_procs: int = 2
    join_concurrency: int = 100  # handshakes in flight per subscriber process
    join_deadline: float = 180.0  # a socket without its snapshot by then counts as failed
    http_connections: int = 32  # keep-alive connections per server port (the HTTP client's pool)
    ramp_step_seconds: float = 5.0
    ramp_factor: float = 1.5
    ramp_refine: int = 3  # bisections between the last pass and the first fail: within ~5%
    ramp_max_steps: int = 9
    ramp_max_rate: float = 4000.0
    ramp_timeout: float = 5.0  # a step fails at p99 ≥ 1 s anyway; waiting 10 s for stragglers only costs time
    burst: int = 10
    bursts: int = 3
    pg_clients: int = 8
    pg_seconds: float = 5.0
    database_url: str = field(
        default_factory=lambda: os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unconf_bench"
        )
    )
    redis_url: str = field(
        default_factory=lambda: os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    slug: str = "bench"
    out_dir: str = "bench/out"
    profile: bool = False
    server: str = "daphne"  # "uvicorn": an experiment, the same application under uvicorn + uvloop
    copy_plot: bool = True


def full_config(**overrides) -> Config:
    defaults = {"sockets": 5000, "storm_seconds": 60, "storm_rate": 200, "attendees": 12000}
    return Config(mode="full", **{**defaults, **overrides})


def quick_config(**overrides) -> Config:
    defaults = {
        "sockets": 1000,
        "storm_seconds": 20,
        "storm_rate": 200,
        "attendees": 6000,
        "ramp_step_seconds": 3.0,
        "ramp_factor": 2.0,
        "ramp_max_steps": 6,
        "ramp_refine": 1,
        "pg_seconds": 3.0,
        "bursts": 2,
    }
    return Config(mode="quick", **{**defaults, **overrides})


# --- client processes ---------------------------------------------------------------------------


class SubscriberProcs:
    """The websocket subscribers, split over a few processes (contiguous ranges of sockets)."""

    def __init__(self, targets: list[wsclient.Target], processes: int, concurrency: int, label: str):
        ctx = multiprocessing.get_context("spawn")
        self.pipes, self.procs, self.offsets = [], [], []
        size = math.ceil(len(targets) / processes)
        for k in range(processes):
            chunk = targets[k * size : (k + 1) * size]
            if not chunk:
                continue
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=wsclient.main, args=(child, chunk, concurrency, f"{label}[{k}]"), daemon=True
            )
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)
            self.offsets.append(k * size)
        self.n = len(targets)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def ask(self, command: tuple, timeout: float) -> list:
        for pipe in self.pipes:
            pipe.send(command)
        replies = []
        deadline = time.monotonic() + timeout
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            while not pipe.poll(0.2):
                if not proc.is_alive():
                    raise RuntimeError(f"subscriber process {proc.pid} died (exit code {proc.exitcode})")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"subscriber process {proc.pid} did not answer {command[0]!r}")
            replies.append(pipe.recv())
        return replies

    def progress(self) -> dict:
        total: dict[str, int] = {}
        for reply in self.ask(("progress",), 30):
            for key, value in reply.items():
                total[key] = total.get(key, 0) + value
        return total

    def dump(self) -> dict:
        """All processes' records merged: one arrivals matrix (versions × all sockets)."""
        dumps = self.ask(("dump",), 120)
        versions = sorted(set().union(*(d["versions"] for d in dumps)))
        row_of = {v: i for i, v in enumerate(versions)}
        arrivals = np.full((len(versions), self.n), np.nan)
        contents, conflicts = {}, 0
        merged = {
            "state": [],
            "t_start": [],
            "t_snapshot": [],
            "attempts": [],
            "messages": [],
            "last_version": [],
        }
        drops, errors, kinds, regressions = [], {}, {}, 0
        for d, offset in zip(dumps, self.offsets, strict=True):
            rows = [row_of[v] for v in d["versions"]]
            arrivals[rows, offset : offset + d["n"]] = d["arrivals"]
            for v, content in d["contents"].items():
                known = contents.setdefault(v, content)
                if known.get("counts") != content.get("counts"):
                    conflicts += 1
            for key in merged:
                merged[key] += d[key]
            drops += [(offset + i, *rest) for i, *rest in d["drops"]]
            for key, value in d["errors"].items():
                errors[key] = errors.get(key, 0) + value
            for key, value in d["kinds"].items():
                kinds[key] = kinds.get(key, 0) + value
            regressions += d["regressions"]
        return {
            "versions": versions,
            "arrivals": arrivals,
            "contents": contents,
            "conflicts": conflicts,
            "drops": drops,
            "errors": errors,
            "kinds": kinds,
            "regressions": regressions,
            **merged,
        }

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError, EOFError):
            self.ask(("close",), 30)
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


class HttpProc:
    """The open-loop HTTP client process (votes or hello-world requests)."""

    def __init__(self, ports: list[int], vote_params: dict | None):
        ctx = multiprocessing.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=httpload.main, args=(child, ports, vote_params), daemon=True)
        self.proc.start()
        child.close()
        self.ports = ports

    @property
    def pid(self) -> int:
        return self.proc.pid

    def run(self, spec: dict) -> dict:
        self.pipe.send(("run", spec))
        deadline = time.monotonic() + spec["seconds"] + float(spec.get("timeout", 10)) + 60
        while not self.pipe.poll(0.5):
            if not self.proc.is_alive():
                raise RuntimeError(f"HTTP client process died (exit code {self.proc.exitcode})")
            if time.monotonic() > deadline:
                raise TimeoutError("HTTP client process did not finish its run")
        return self.pipe.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send(("stop",))
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


# --- summaries of one HTTP run ------------------------------------------------------------------


def load_summary(run: dict) -> dict:
    status, sent = run["status"], ~np.isnan(run["t_sent"])
    ok = (status == 200) & run["body_ok"]
    latency = (run["t_done"] - run["t_due"]) * 1000.0
    span = np.nanmax(run["t_done"]) - np.nanmin(run["t_due"]) if ok.any() else float("nan")
    return {
        "offered": run["rate"],
        "planned": run["planned"],
        "sent": int(sent.sum()),
        "ok": int(ok.sum()),
        "failed": int(len(status) - ok.sum()) + (run["planned"] - len(status)),
        "achieved": float(ok.sum() / span) if span and span > 0 else None,
        **percentiles(latency[ok], (50, 95, 99)),
        "errors": run["errors"],
    }


def ramp_step(http: HttpProc, kind: str, rate: float, cfg: Config, runs: list, cpu: dict) -> RampStep:
    label = f"{'vote' if kind == 'votes' else 'hello-world'} ramp {rate:.0f}/s"
    log(f"{label}: {cfg.ramp_step_seconds:.0f} s")
    meter = CpuMeter(cpu)
    meter.start()
    run = http.run(
        {
            "kind": kind,
            "rate": rate,
            "seconds": cfg.ramp_step_seconds,
            "label": label,
            "connections": cfg.http_connections,
            "timeout": cfg.ramp_timeout,
        }
    )
    shares = meter.stop()
    runs.append(run)
    s = load_summary(run)
    passed = s["failed"] == 0 and s["p99"] is not None and s["p99"] < 1000.0
    log(
        f"  → {s['ok']}/{s['planned']} ok, p50 {report.fmt(s['p50'], 'ms')}, p99 {report.fmt(s['p99'], 'ms')}, "
        f"{s['failed']} failed, CPU {', '.join(f'{k} {v:.0f}%' for k, v in shares.items())}: "
        f"{'pass' if passed else 'fail'}" + (f" {s['errors']}" if s["errors"] else "")
    )
    drain(http.ports, "/" if kind == "hello" else "/healthz")
    detail = {k: v for k, v in s.items() if k != "errors"}
    detail["cpu"] = shares
    return RampStep(rate=rate, passed=passed, detail=detail)


def drain(ports: list[int], path: str, timeout: float = 20.0) -> float:
    """Wait (bounded) until every server answers a probe within 100 ms: the last step's backlog is gone."""
    started = time.monotonic()
    time.sleep(0.5)
    while time.monotonic() - started < timeout:
        slow = False
        for port in ports:
            t = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                    response.read()
            except OSError:
                slow = True
            slow = slow or time.monotonic() - t > 0.1
        if not slow:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def ramp(http: HttpProc, kind: str, cfg: Config, runs: list, cpu: dict) -> dict:
    """The ramp (see analysis.find_capacity); `cpu`: process groups whose CPU each step records."""
    capacity, steps = analysis.find_capacity(
        lambda rate: ramp_step(http, kind, rate, cfg, runs, cpu),
        start=cfg.storm_rate,
        factor=cfg.ramp_factor,
        refine=cfg.ramp_refine,
        max_rate=cfg.ramp_max_rate,
        max_steps=cfg.ramp_max_steps,
    )
    return {"capacity": capacity, "steps": [asdict(s) for s in steps]}


# --- the limits ---------------------------------------------------------------------------------


def base_env() -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def read_line(server: Server, timeout: float) -> str:
    ready, _, _ = select.select([server.process.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError(f"{server.name} said nothing for {timeout:.0f} s:\n{server.tail()}")
    return server.process.stdout.readline().strip()


def join_storm(subs: SubscriberProcs, deadline: float) -> tuple[float, dict]:
    """Every subscriber process opens its sockets at once; bounded by `deadline` seconds."""
    started = time.monotonic()
    replies = subs.ask(("join", deadline), deadline + 60)
    took = time.monotonic() - started
    return took, {
        "open": sum(r["open"] for r in replies),
        "failed": sum(r["failed"] for r in replies),
        "retries": sum(r["retries"] for r in replies),
    }


def wait_messages(subs: SubscriberProcs, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        got = subs.progress()["messages"]
        if got >= expected or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def limit_fanout(cfg: Config, out: Path) -> dict:
    """Plain websockets + uvloop: join time, memory per socket and fan-out rate at N sockets."""
    port = free_port()
    server = Server(
        "ws-baseline",
        [sys.executable, "-m", "bench.load.wsbaseline", str(port), str(cfg.proposals)],
        base_env(),
        out,
        stdin=subprocess.PIPE,
        stdout_pipe=True,
    )
    subs = None
    try:
        if read_line(server, 20) != "ready":
            raise RuntimeError(f"baseline server did not start:\n{server.tail()}")
        time.sleep(0.3)
        rss0 = rss_kb(server.pid)
        origin = f"http://127.0.0.1:{port}"
        targets = [wsclient.Target("127.0.0.1", port, "/", origin)] * cfg.sockets
        subs = SubscriberProcs(targets, cfg.subscriber_procs, cfg.join_concurrency, "limit subscribers")
        log(f"plain websockets: connecting {cfg.sockets:,} sockets")
        join_s, join = join_storm(subs, cfg.join_deadline)
        time.sleep(1.0)
        rss1 = rss_kb(server.pid)
        log(f"  → {join['open']:,} with snapshot in {join_s:.1f} s; RSS +{(rss1 - rss0) / 1024:.1f} MB")
        received = cfg.sockets
        for b in range(cfg.bursts):
            server.process.stdin.write(f"burst {cfg.burst}\n")
            server.process.stdin.flush()
            read_line(server, 60)
            received += cfg.burst * cfg.sockets
            got = wait_messages(subs, received, 60)
            log(
                f"  burst {b + 1}/{cfg.bursts}: {cfg.burst} broadcasts → {got - (received - cfg.burst * cfg.sockets):,} deliveries"
            )
            time.sleep(0.3)
        dump = subs.dump()
        tally_rows = [i for i, v in enumerate(dump["versions"]) if dump["contents"][v]["kind"] == "tally"]
        fan = analysis.fanout(dump["arrivals"][tally_rows])
        log(
            f"  → fan-out {report.fmt(fan.rate, '/s')} ({fan.deliveries:,} deliveries in {fan.busy_seconds:.2f} s)"
        )
        return {
            "sockets": cfg.sockets,
            "join_seconds": join_s,
            "join": join,
            "mem_kb_per_socket": (rss1 - rss0) / cfg.sockets,
            "rate": fan.rate,
            "broadcasts": fan.broadcasts,
            "deliveries": fan.deliveries,
            "busy_seconds": fan.busy_seconds,
            "spread_ms": fan.spread_ms,
            "dropped": sum(1 for s in dump["state"] if s != "open"),
        }
    finally:
        if subs is not None:
            subs.stop()
        if server.alive():
            try:
                server.process.stdin.write("quit\n")
                server.process.stdin.flush()
            except OSError:
                pass
        server.stop()


def limit_hello(cfg: Config, out: Path) -> dict:
    """A hello-world Django view in the same number of Daphne processes: the same ramp as the votes."""
    env = {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.load.hello_settings"}
    ports = [free_port() for _ in range(cfg.daphne_procs)]
    servers = [
        start_daphne(f"hello-daphne-{i + 1}", "bench.load.hello_asgi:application", port, env, out, cfg.server)
        for i, port in enumerate(ports)
    ]
    http = None
    try:
        for server, port in zip(servers, ports, strict=True):
            wait_http(server, f"http://127.0.0.1:{port}/")
        http = HttpProc(ports, None)
        runs: list = []
        cpu = {
            f"daphne :{p}": (lambda pid=s.pid: procs.pids_cpu([pid]))
            for s, p in zip(servers, ports, strict=True)
        }
        cpu["client"] = lambda: procs.pids_cpu([http.pid])
        cpu["machine"] = procs.machine_cpu_seconds
        result = ramp(http, "hello", cfg, runs, cpu)
        at_rate = [s for s in result["steps"] if abs(s["rate"] - cfg.storm_rate) < 1e-6]
        result["at_storm_rate"] = at_rate[0]["detail"] if at_rate else {}
        log(f"  → hello-world capacity {report.fmt(result['capacity'], 'req/s')}")
        return result
    finally:
        if http is not None:
            http.stop()
        for server in servers:
            server.stop()


# --- the product --------------------------------------------------------------------------------


def start_product(cfg: Config, out: Path) -> tuple[list[Server], list[int]]:
    env = {
        **base_env(),
        "DATABASE_URL": cfg.database_url,
        "REDIS_URL": cfg.redis_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECRET_KEY": "bench-load-not-a-secret",
        "UNCONF_JOIN_RATE": "1000000",
        "UNCONF_BAD_CODE_RATE": "1000000",
    }
    ports = [free_port() for _ in range(cfg.daphne_procs)]
    servers = [
        start_daphne(f"daphne-{i + 1}", "unconf.asgi:application", port, env, out, cfg.server)
        for i, port in enumerate(ports)
    ]
    for server, port in zip(servers, ports, strict=True):
        wait_http(server, f"http://127.0.0.1:{port}/healthz")
    return servers, ports


def settle(subs: SubscriberProcs, expected: dict, timeout: float) -> dict:
    """Wait until every open socket's last message shows the final counts (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        replies = subs.ask(("expect", expected), 30)
        matching = sum(r["matching"] for r in replies)
        other = sum(r["other"] for r in replies)
        if other == 0 or time.monotonic() > deadline:
            return {"matching": matching, "other": other}
        time.sleep(0.25)


def product_run(cfg: Config, out: Path, event: dict) -> dict:
    """Join storm, vote storm, ramp, then the checks. Returns the product's figures."""
    servers, ports = start_product(cfg, out)
    subs = http = None
    result: dict = {"ports": ports}
    try:
        log(f"product: {len(servers)} Daphne processes on ports {ports} (clients split across them)")
        time.sleep(0.5)
        rss0 = sum(rss_kb(s.pid) for s in servers)
        subs = SubscriberProcs(
            _attendee_targets(cfg, event, ports), cfg.subscriber_procs, cfg.join_concurrency, "subscribers"
        )
        time.sleep(1.0)  # the client processes are up before the clock starts
        profiles = procs.Profiles(cfg.profile, out)
        daphnes = {f"daphne :{p}": s.pid for s, p in zip(servers, ports, strict=True)}
        result["profile"] = {}
        log(f"join storm: {cfg.sockets:,} attendee websockets")
        profiles.start("join", daphnes, cfg.join_deadline)
        join_s, join = join_storm(subs, cfg.join_deadline)
        result["profile"].update(profiles.stop(analysis.summarize_collapsed))
        time.sleep(1.0)
        rss1 = sum(rss_kb(s.pid) for s in servers)
        log(f"  → {join['open']:,} with snapshot in {join_s:.1f} s ({join['retries']} retried attempts)")
        result["join"] = {"seconds": join_s, **join}
        result["memory"] = {
            "rss_before_kb": rss0,
            "rss_after_kb": rss1,
            "kb_per_socket": (rss1 - rss0) / max(join["open"], 1),
        }
        log(
            f"  → RSS {rss0 / 1024:.0f} → {rss1 / 1024:.0f} MB: {result['memory']['kb_per_socket']:.1f} KB per socket"
        )

        http = HttpProc(
            ports,
            {
                "tokens": event["tokens"],
                "proposal_ids": event["proposal_ids"],
                "budget": event["budget"],
                "slug": event["slug"],
            },
        )
        groups = {
            f"daphne :{p}": (lambda pid=s.pid: procs.pids_cpu([pid]))
            for s, p in zip(servers, ports, strict=True)
        }
        groups["postgres (whole server, all databases)"] = procs.postgres_cpu_seconds
        groups["redis-server"] = lambda: procs.pids_cpu(procs.pids_matching(comm="redis-server"))
        groups["subscriber clients"] = lambda: procs.pids_cpu(subs.pids)
        groups["vote client"] = lambda: procs.pids_cpu([http.pid])
        groups["harness"] = lambda: procs.pids_cpu([os.getpid()])
        groups["whole machine (all processes, incl. other users)"] = procs.machine_cpu_seconds
        meter = CpuMeter(groups)
        profiles.start("storm", daphnes, cfg.storm_seconds + 5)
        log(f"vote storm: {cfg.storm_rate:.0f} votes/s for {cfg.storm_seconds:.0f} s over HTTP")
        meter.start()
        storm = http.run(
            {
                "kind": "votes",
                "rate": cfg.storm_rate,
                "seconds": cfg.storm_seconds,
                "label": "vote storm",
                "connections": cfg.http_connections,
            }
        )
        result["cpu"] = meter.stop()
        summary = load_summary(storm)
        result["storm"] = {
            "rate": cfg.storm_rate,
            "seconds": cfg.storm_seconds,
            **{k: summary[k] for k in ("planned", "sent", "ok", "failed", "achieved", "errors")},
            "ack_ms": {k: summary[k] for k in ("p50", "p95", "p99")},
        }
        log(
            f"  → {summary['ok']:,}/{summary['planned']:,} acked, ack p50 {report.fmt(summary['p50'], 'ms', 1)}, "
            f"p99 {report.fmt(summary['p99'], 'ms', 1)}, {summary['failed']} failed"
        )
        result["profile"].update(profiles.stop(analysis.summarize_collapsed))

        runs: list = []
        log("ramp: the highest vote rate with ack p99 < 1 s and no errors")
        cpu = {name: read for name, read in groups.items() if name.startswith("daphne")}
        cpu["postgres"] = procs.postgres_cpu_seconds
        cpu["client"] = groups["vote client"]
        cpu["machine"] = procs.machine_cpu_seconds
        result["ramp"] = ramp(http, "votes", cfg, runs, cpu)
        log(f"  → vote ingest capacity {report.fmt(result['ramp']['capacity'], 'votes/s')}")

        # --- the checks ---
        log("checks: database against the acknowledgements, every subscriber against the database")
        time.sleep(1.0)
        outcome = setup.read_outcome(event["event_id"])
        expected = outcome["counters"]
        settled = settle(subs, expected, 15.0)
        log(f"  → {settled['matching']:,} sockets show the final counts, {settled['other']} do not")
        dump = subs.dump()
        result.update(analyse(cfg, event, storm, runs, outcome, dump))
        result["settle"] = settled
        return result
    finally:
        if http is not None:
            http.stop()
        if subs is not None:
            subs.stop()
        for server in servers:
            server.stop()


def join_only(cfg: Config, command: str) -> int:
    """`--join-only`: the two connect targets in ~1 minute, to steer by (no votes, no files).

    The plain-websockets limit, then the product's join storm with its memory per socket.
    Exit status: 0 both targets met, 1 a socket failed to connect, 3 a target missed.
    """
    out = ROOT / cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    if wsclient.raise_fd_limit() < cfg.sockets // max(cfg.subscriber_procs, 1) + 500:
        log("error: the open-file limit is too low for this many sockets; raise `ulimit -Hn`")
        return 2
    log(f"join only: {cfg.sockets:,} sockets")
    setup.recreate_database(cfg.database_url, base_env())
    import redis

    redis.Redis.from_url(cfg.redis_url).flushdb()
    limit = limit_fanout(cfg, out)
    setup.django_setup(cfg.database_url, cfg.redis_url)
    event = setup.create_event(
        slug=cfg.slug, proposals=cfg.proposals, attendees=cfg.attendees, budget=cfg.budget
    )
    servers, ports = start_product(cfg, out)
    subs = None
    try:
        time.sleep(0.5)
        rss0 = sum(rss_kb(s.pid) for s in servers)
        subs = SubscriberProcs(
            _attendee_targets(cfg, event, ports), cfg.subscriber_procs, cfg.join_concurrency, "subscribers"
        )
        time.sleep(1.0)
        profiles = procs.Profiles(cfg.profile, out)
        profiles.start(
            "join", {f"daphne :{p}": s.pid for s, p in zip(servers, ports, strict=True)}, cfg.join_deadline
        )
        seconds, join = join_storm(subs, cfg.join_deadline)
        profile = profiles.stop(analysis.summarize_collapsed)
        time.sleep(1.0)
        kb = (sum(rss_kb(s.pid) for s in servers) - rss0) / max(join["open"], 1)
    finally:
        if subs is not None:
            subs.stop()
        for server in servers:
            server.stop()
    rows = [
        ("join storm, seconds", seconds, limit["join_seconds"], 10.0),
        ("memory per socket, KB", kb, limit["mem_kb_per_socket"], 32.0),
    ]
    print(f"\nJoin only: {command}")
    for name, product, base, target in rows:
        verdict = "PASS" if product <= target else "FAIL"
        print(
            f"  {name:24} {product:8.1f}   limit {base:6.1f} ({product / base:.2f}x)   target <= {target:g}   {verdict}"
        )
    for name, summary in profile.items():
        print(f"  profile {name}: {summary['samples']} samples, files in {out}")
    if join["failed"] or join["open"] < cfg.sockets:
        print(f"FAIL: {cfg.sockets - join['open']} socket(s) never got their snapshot")
        return 1
    return 0 if all(product <= target for _, product, _, target in rows) else 3


def votes_only(cfg: Config, command: str) -> int:
    """`--votes-only`: what one vote costs the servers against one hello-world request (~1 min).

    Both at the storm rate for `storm_seconds`, with no websocket open, so the figure is the
    request path alone: CPU milliseconds per request of the Daphne processes and of
    PostgreSQL, and the ack percentiles. Steers the vote path; writes only profiles.
    Exit status: 0 every vote acked, 1 a vote failed.
    """
    out = ROOT / cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    setup.recreate_database(cfg.database_url, base_env())
    rows = {}

    def measure(kind: str, ports: list[int], pids: list[int], vote_params: dict | None) -> dict:
        http = HttpProc(ports, vote_params)
        try:
            http.run({"kind": kind, "rate": cfg.storm_rate, "seconds": 2.0, "label": f"{kind} warm-up"})
            meter = CpuMeter(
                {"servers": lambda: procs.pids_cpu(pids), "postgres": procs.postgres_cpu_seconds}
            )
            profiles = procs.Profiles(cfg.profile and kind == "votes", out)
            profiles.start(
                "votes-only",
                {f"daphne :{port}": pid for port, pid in zip(ports, pids, strict=True)},
                cfg.storm_seconds,
            )
            meter.start()
            run = http.run(
                {
                    "kind": kind,
                    "rate": cfg.storm_rate,
                    "seconds": cfg.storm_seconds,
                    "label": kind,
                    "connections": cfg.http_connections,
                }
            )
            shares = meter.stop()
            profile = profiles.stop(analysis.summarize_collapsed)
        finally:
            http.stop()
        s = load_summary(run)
        per = {name: pct * 10.0 / cfg.storm_rate for name, pct in shares.items()}  # % of a core → ms each
        return {**s, "ms": per, "profile": profile}

    env = {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.load.hello_settings"}
    ports = [free_port() for _ in range(cfg.daphne_procs)]
    servers = [
        start_daphne(f"hello-daphne-{i + 1}", "bench.load.hello_asgi:application", port, env, out, cfg.server)
        for i, port in enumerate(ports)
    ]
    try:
        for server, port in zip(servers, ports, strict=True):
            wait_http(server, f"http://127.0.0.1:{port}/")
        log(f"hello-world: {cfg.storm_rate:.0f} req/s for {cfg.storm_seconds:.0f} s")
        rows["hello-world"] = measure("hello", ports, [s.pid for s in servers], None)
    finally:
        for server in servers:
            server.stop()

    setup.django_setup(cfg.database_url, cfg.redis_url)
    event = setup.create_event(
        slug=cfg.slug, proposals=cfg.proposals, attendees=cfg.attendees, budget=cfg.budget
    )
    servers, ports = start_product(cfg, out)
    try:
        log(f"votes: {cfg.storm_rate:.0f} votes/s for {cfg.storm_seconds:.0f} s, no websocket open")
        params = {k: event[k] for k in ("tokens", "proposal_ids", "budget", "slug")}
        rows["vote"] = measure("votes", ports, [s.pid for s in servers], params)
    finally:
        for server in servers:
            server.stop()

    hello = rows["hello-world"]["ms"]["servers"]
    print(f"\nVotes only: {command}")
    for name, r in rows.items():
        print(
            f"  {name:12} {r['ok']:6,}/{r['planned']:,} ok  ack p50 {report.fmt(r['p50'], 'ms', 1):>9}  "
            f"p99 {report.fmt(r['p99'], 'ms', 1):>9}   CPU per request: servers {r['ms']['servers']:.2f} ms "
            f"({r['ms']['servers'] / hello:.2f}x hello-world), PostgreSQL {r['ms']['postgres']:.2f} ms"
        )
        for profile_name, summary in r["profile"].items():
            print(f"  profile {profile_name}: {summary['samples']} samples, files in {out}")
    return 0 if rows["vote"]["failed"] == 0 else 1


def _attendee_targets(cfg: Config, event: dict, ports: list[int]) -> list:
    return [
        wsclient.Target(
            "127.0.0.1",
            ports[i % len(ports)],
            f"/ws/events/{event['slug']}/",
            f"http://127.0.0.1:{ports[i % len(ports)]}",
            (("Authorization", f"Attendee {event['tokens'][i]}"),),
        )
        for i in range(cfg.sockets)
    ]


def analyse(cfg: Config, event: dict, storm: dict, runs: list, outcome: dict, dump: dict) -> dict:
    """Vote→screen, fan-out, tallies per subscriber, the timeline and the correctness check."""
    attendee_ids = np.asarray(event["attendee_ids"])
    versions, contents, arrivals = dump["versions"], dump["contents"], dump["arrivals"]
    check = Check()

    # Acknowledged, failed and unsure votes of the whole run.
    acked, unknown, bad_acks = set(), set(), 0
    for run in [storm, *runs]:
        for a, pid, status, ok in zip(
            run["attendee"], run["proposal"], run["status"], run["body_ok"], strict=True
        ):
            if a < 0:
                continue
            pair = (int(attendee_ids[a]), int(pid))
            if status == 200 and ok:
                acked.add(pair)
            elif status == 200:
                bad_acks += 1
                unknown.add(pair)
            elif status <= 0 or status >= 500:
                unknown.add(pair)  # may or may not have committed
    analysis.check_votes(
        check,
        acked=acked,
        unknown=unknown,
        db_pairs=outcome["pairs"],
        db_counts=outcome["counters"],
        recount=outcome["recount"],
        replay=outcome["replay"],
        bad_acks=bad_acks,
    )
    last_states = [contents.get(v) if v else None for v in dump["last_version"]]
    analysis.check_screens(
        check,
        expected=outcome["counters"],
        expected_participation=outcome["participation"],
        last_states=last_states,
        statuses=dump["state"],
        regressions=dump["regressions"],
    )
    if dump["conflicts"]:
        check.tally_mismatches += dump["conflicts"]
        check.problems.append(
            f"{dump['conflicts']} version(s) seen with different counts by different sockets"
        )

    # vote → screen, for the storm's acknowledged votes.
    ok = (storm["status"] == 200) & storm["body_ok"] & (storm["attendee"] >= 0)
    pairs = [
        (int(attendee_ids[a]), int(p))
        for a, p in zip(storm["attendee"][ok], storm["proposal"][ok], strict=True)
    ]
    needed = np.array([outcome["count_after"].get(pair, 10**9) for pair in pairs], dtype=np.int64)
    proposals = storm["proposal"][ok]
    acks = storm["t_done"][ok]
    version_counts = {
        pid: np.array([((contents[v].get("counts") or {}).get(pid) or (-1, -1))[0] for v in versions])
        for pid in event["proposal_ids"]
    }
    start = float(np.nanmin(storm["t_due"])) if len(storm["t_due"]) else 0.0
    n_buckets = int(math.ceil(cfg.storm_seconds)) + 5
    screen = analysis.vote_to_screen(
        ack_times=acks,
        proposals=proposals,
        needed=needed,
        version_counts=version_counts,
        arrivals=arrivals,
        bucket_origin=start,
        n_buckets=n_buckets,
    )
    if screen.never_shown:
        check.tally_mismatches += screen.never_shown
        check.problems.append(f"{screen.never_shown} acknowledged vote(s) never appeared in any message")

    # Fan-out and tallies per subscriber during the storm.
    end = float(np.nanmax(storm["t_done"])) if ok.any() else start
    first = (
        np.nanmin(np.where(np.isnan(arrivals), np.inf, arrivals), axis=1) if arrivals.size else np.array([])
    )
    storm_rows = [
        i
        for i, v in enumerate(versions)
        if contents[v].get("kind") == "tally" and start <= first[i] <= end + 1.0
    ]
    fan = analysis.fanout(arrivals[storm_rows])
    per_socket = (~np.isnan(arrivals[storm_rows])).sum(axis=0) if storm_rows else np.zeros(1)
    built = [contents[versions[i]].get("built") for i in storm_rows]

    # Timeline (per second of the storm): latency by when the vote was due, throughput by second.
    ack_ms = (storm["t_done"] - storm["t_due"]) * 1000.0
    due_bucket = ((storm["t_due"] - start) // 1).astype(np.int64)
    done_bucket = np.where(np.isnan(storm["t_done"]), -1, (storm["t_done"] - start) // 1).astype(np.int64)
    seconds = list(range(int(math.ceil(cfg.storm_seconds))))
    storm_arrivals = arrivals[storm_rows].ravel() if storm_rows else np.array([])
    storm_arrivals = storm_arrivals[~np.isnan(storm_arrivals)]
    tally_bucket = ((storm_arrivals - start) // 1).astype(np.int64)
    open_sockets = max(1, sum(1 for x in dump["state"] if x == "open"))
    timeline = {
        key: [] for key in ("ack_p50", "ack_p99", "screen_p50", "screen_p99", "offered", "acked", "failed")
    }
    timeline["second"] = seconds
    timeline["tallies_per_subscriber"] = []
    for s in seconds:
        due = due_bucket == s
        p = percentiles(ack_ms[ok & due], (50, 99))
        timeline["ack_p50"].append(p["p50"])
        timeline["ack_p99"].append(p["p99"])
        timeline["offered"].append(int(due.sum()))
        timeline["acked"].append(int((ok & (done_bucket == s)).sum()))
        timeline["failed"].append(int((~ok & (done_bucket == s)).sum()))
        timeline["screen_p50"].append(screen.bucket_percentile(s, 50))
        timeline["screen_p99"].append(screen.bucket_percentile(s, 99))
        timeline["tallies_per_subscriber"].append(float((tally_bucket == s).sum()) / open_sockets)

    storm_seconds = max(end - start, 1e-6)
    return {
        "screen": {
            "p50": screen.percentile(50),
            "p95": screen.percentile(95),
            "p99": screen.percentile(99),
            "pairs": screen.pairs,
            "unseen_pairs": screen.unseen_pairs,
            "never_shown": screen.never_shown,
        },
        "fanout": {
            "rate": fan.rate,
            "broadcasts": fan.broadcasts,
            "deliveries": fan.deliveries,
            "busy_seconds": fan.busy_seconds,
            "spread_ms": fan.spread_ms,
            "built_to_last_ms": _built_to_last(arrivals[storm_rows], built),
        },
        "tallies_per_second_per_subscriber": float(np.mean(per_socket)) / storm_seconds,
        "timeline": timeline,
        "check": {
            "lost_votes": check.lost_votes,
            "tally_mismatches": check.tally_mismatches,
            "dropped_sockets": check.dropped_sockets,
            "problems": check.problems,
            "fail_lines": check.fail_lines(),
            "acked": len(acked),
            "unsure": len(unknown),
            "vote_rows": len(outcome["pairs"]),
            "ledger_entries": outcome["ledger_entries"],
        },
        "subscribers": {
            "messages": dump["kinds"],
            "drops": dump["drops"][:20],
            "connect_errors": dump["errors"],
        },
    }


def _built_to_last(arrivals: np.ndarray, built: list) -> dict:
    """From a tally's server_time (when it was built) to its arrival at the last socket, in ms."""
    offset = time.time() - time.monotonic()
    spans = [
        (np.nanmax(row) + offset - b) * 1000.0
        for row, b in zip(arrivals, built, strict=True)
        if b is not None
    ]
    return percentiles(spans, (50, 99))


# --- the whole run ------------------------------------------------------------------------------


def run(cfg: Config, command: str) -> int:
    out = ROOT / cfg.out_dir
    out.mkdir(parents=True, exist_ok=True)
    for pattern in ("daphne-*.log", "hello-daphne-*.log", "ws-baseline.log", "profile-*.txt", "load*.*"):
        for old in out.glob(pattern):  # this harness's own files from an earlier run
            old.unlink()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    fd_limit = wsclient.raise_fd_limit()
    needed_fds = cfg.sockets // max(cfg.subscriber_procs, 1) + 500
    if fd_limit < needed_fds:
        log(f"error: open-file limit {fd_limit} is below the {needed_fds} needed; raise `ulimit -Hn`")
        return 2
    log(
        f"load benchmark ({cfg.mode}): {cfg.sockets:,} sockets, {cfg.storm_rate:.0f} votes/s for "
        f"{cfg.storm_seconds:.0f} s, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    idle = CpuMeter({"machine": procs.machine_cpu_seconds})
    idle.start()
    time.sleep(2.0)
    busy_before = idle.stop()["machine"]
    log(f"machine busy before the run (other users): {busy_before:.0f}% of {100 * (os.cpu_count() or 1)}%")
    results: dict = {
        "mode": cfg.mode,
        "command": command,
        "started": started,
        "config": asdict(cfg),
        "machine": {
            "cores": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "busy_before_pct": busy_before,
        },
        "limits": {},
    }
    env = base_env()
    log(f"database: {cfg.database_url} (fresh), Redis {cfg.redis_url}")
    setup.recreate_database(cfg.database_url, env)
    import redis

    redis.Redis.from_url(cfg.redis_url).flushdb()

    log(
        f"limit: PostgreSQL, one vote INSERT per transaction, {cfg.pg_clients} clients, {cfg.pg_seconds:.0f} s"
    )
    results["limits"]["postgres"] = pgbaseline.measure(
        setup.dsn(cfg.database_url), clients=cfg.pg_clients, seconds=cfg.pg_seconds
    )
    log(f"  → {results['limits']['postgres']['rate']:,.0f} rows/s")
    log(f"limit: plain websockets + uvloop, {cfg.sockets:,} sockets")
    results["limits"]["fanout"] = limit_fanout(cfg, out)
    log(f"limit: hello-world Django view, {cfg.daphne_procs} Daphne processes")
    results["limits"]["hello"] = limit_hello(cfg, out)

    log(f"product: event with {cfg.proposals} proposals and {cfg.attendees:,} attendees")
    setup.django_setup(cfg.database_url, cfg.redis_url)
    event = setup.create_event(
        slug=cfg.slug, proposals=cfg.proposals, attendees=cfg.attendees, budget=cfg.budget
    )
    results["product"] = product_run(cfg, out, event)
    results["wall_seconds"] = time.monotonic() - T0

    rows = report.build_rows(results)
    check = results["product"]["check"]
    correct = check["lost_votes"] == 0 and check["tally_mismatches"] == 0 and check["dropped_sockets"] == 0
    missed = [r for r in rows if r.result == report.FAIL]
    results["passed"] = not missed
    results["summary"] = [f"{r.figure.strip()}: {r.product} (target {r.target})" for r in missed] or [
        "every target met"
    ]
    report.write(out, results, rows)
    plot_path = out / "load-latency.png"
    report.plot(plot_path, results)
    if cfg.copy_plot:
        docs = ROOT / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(plot_path, docs / "bench-latency.png")

    print()
    print(f"Load benchmark ({cfg.mode}): {command}")
    print(report.render_table(rows))
    print()
    print("CPU during the vote storm (% of one core):")
    print(report.render_cpu(results["product"]["cpu"]))
    print()
    for name, summary in results["product"].get("profile", {}).items():
        print(f"\nProfile of {name}: {summary['samples']} samples (py-spy --threads, idle excluded)")
        for group, entry in summary.get("threads", {}).items():
            busy = f", busy {entry['busy_pct']:.0f}% of the time" if "busy_pct" in entry else ""
            print(f"  {group} ({entry['threads']} thread(s){busy}); top self, % of the group's samples:")
            print("\n".join(f"    {share:5.1f}% {frame}" for frame, share in entry["self"][:8]))
    print()
    print(f"Written: {out / 'load.json'}, {out / 'load.md'}, {plot_path}")
    for line in check["fail_lines"]:
        print(line)
    if not correct:
        print("FAIL: the product lost a vote, showed a wrong tally or dropped a socket (see above)")
        return 1
    if missed:
        for r in missed:
            print(f"FAIL: {r.figure.strip()}: {r.product} (target {r.target})")
        return 3
    print("PASS: every target met")
    return 0
