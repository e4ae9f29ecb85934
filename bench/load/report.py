"""The table (figure, product, limit, ratio, target), its JSON and Markdown, and the latency plot."""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

PASS, FAIL, INFO = "PASS", "FAIL", ""


@dataclass
class Row:
    figure: str
    product: str
    limit: str = "—"
    ratio: str = "—"
    target: str = "—"
    result: str = INFO


def fmt(value, unit: str = "", digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return f"{text} {unit}".rstrip()


def ratio(product, limit, as_percent: bool = True) -> tuple[float | None, str]:
    if product is None or not limit:
        return None, "n/a"
    r = product / limit
    if as_percent:
        return r, f"{100 * r:.0f}%"
    return r, f"{r:.2f}×" if r < 10 else f"{r:,.0f}×"


def verdict(ok: bool | None) -> str:
    if ok is None:
        return FAIL  # not measured counts as a miss
    return PASS if ok else FAIL


def build_rows(r: dict) -> list[Row]:
    """The table from the run's results (see run.py for the shape of `r`)."""
    p, lim, n = r["product"], r["limits"], r["config"]["sockets"]
    rows: list[Row] = []

    # Join storm.
    join_s, join_limit = p["join"]["seconds"], lim["fanout"].get("join_seconds")
    _, rt = ratio(join_s, join_limit, as_percent=False)
    rows.append(
        Row(
            f"Join storm: {n:,} sockets with their snapshot",
            fmt(join_s, "s", 1),
            fmt(join_limit, "s", 1) + " (plain websockets)",
            rt,
            "≤ 10 s",
            verdict(join_s is not None and p["join"]["open"] == n and join_s <= 10.0),
        )
    )
    # Memory.
    mem, mem_limit = p["memory"]["kb_per_socket"], lim["fanout"].get("mem_kb_per_socket")
    _, rt = ratio(mem, mem_limit, as_percent=False)
    rows.append(
        Row(
            "Server memory per open socket",
            fmt(mem, "KB", 1),
            fmt(mem_limit, "KB", 1) + " (plain websockets)",
            rt,
            "≤ 32 KB",
            verdict(mem is not None and mem <= 32.0),
        )
    )
    # Fan-out.
    fan, fan_limit = p["fanout"]["rate"], lim["fanout"].get("rate")
    rv, rt = ratio(fan, fan_limit)
    rows.append(
        Row(
            f"Fan-out deliveries/s at {n:,} sockets",
            fmt(fan, "/s"),
            fmt(fan_limit, "/s") + " (plain websockets)",
            rt,
            "≥ 33% of limit",
            verdict(rv is not None and rv >= 0.33),
        )
    )
    rows.append(
        Row(
            "  time for one tally to reach every socket (p50 / p99)",
            f"{fmt(p['fanout']['spread_ms'].get('p50'), 'ms')} / {fmt(p['fanout']['spread_ms'].get('p99'), 'ms')}",
            f"{fmt(lim['fanout']['spread_ms'].get('p50'), 'ms')} / {fmt(lim['fanout']['spread_ms'].get('p99'), 'ms')}",
        )
    )
    rows.append(
        Row(
            "  tally messages/s per subscriber",
            fmt(p["tallies_per_second_per_subscriber"], "/s", 1),
            target="a few per second (contract)",
        )
    )
    # vote → screen.
    screen = p["screen"]
    rate = r["config"]["storm_rate"]
    for q in ("p50", "p95"):
        rows.append(Row(f"Vote→screen {q} at {rate:.0f} votes/s", fmt(screen.get(q), "ms")))
    rows.append(
        Row(
            f"Vote→screen p99 at {rate:.0f} votes/s, {n:,} sockets",
            fmt(screen.get("p99"), "ms"),
            target="≤ 750 ms",
            result=verdict(screen.get("p99") is not None and screen["p99"] <= 750),
        )
    )
    # Ack latency.
    ack, hello_at = p["storm"]["ack_ms"], lim["hello"].get("at_storm_rate") or {}
    for q in ("p50", "p95"):
        _, rt = ratio(ack.get(q), hello_at.get(q), as_percent=False)
        rows.append(
            Row(
                f"Vote ack {q} at {rate:.0f} votes/s",
                fmt(ack.get(q), "ms", 1),
                fmt(hello_at.get(q), "ms", 1) + " (hello-world)",
                rt,
            )
        )
    _, rt = ratio(ack.get("p99"), hello_at.get("p99"), as_percent=False)
    storm_errors = p["storm"]["failed"]
    rows.append(
        Row(
            f"Vote ack p99 at {rate:.0f} votes/s ({storm_errors} errors)",
            fmt(ack.get("p99"), "ms", 1),
            fmt(hello_at.get("p99"), "ms", 1) + " (hello-world)",
            rt,
            "≤ 100 ms, 0 errors",
            verdict(ack.get("p99") is not None and ack["p99"] <= 100 and storm_errors == 0),
        )
    )
    # Ingest capacity.
    cap, hello_cap = p["ramp"]["capacity"], lim["hello"].get("capacity")
    rv, rt = ratio(cap, hello_cap)
    rows.append(
        Row(
            "Vote ingest capacity (ack p99 < 1 s, 0 errors)",
            fmt(cap, "votes/s"),
            fmt(hello_cap, "req/s") + " (hello-world)",
            rt,
            "≥ 70% of limit",
            verdict(rv is not None and rv >= 0.70),
        )
    )
    pg = lim["postgres"].get("rate")
    _, rt = ratio(cap, pg)
    rows.append(Row("  same against raw PostgreSQL vote INSERTs", fmt(cap, "votes/s"), fmt(pg, "rows/s"), rt))
    # Correctness.
    check = p["check"]
    for key, label in (
        ("lost_votes", "Lost votes"),
        ("tally_mismatches", "Tally mismatches"),
        ("dropped_sockets", "Dropped sockets"),
    ):
        rows.append(Row(label, fmt(check[key]), target="0", result=verdict(check[key] == 0)))
    return rows


def render_table(rows: list[Row], markdown: bool = False) -> str:
    header = ("figure", "product", "limit", "ratio", "target", "result")
    cells = [header] + [(r.figure, r.product, r.limit, r.ratio, r.target, r.result) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * len(header)) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    out = []
    for k, row in enumerate(cells):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render_cpu(cpu: dict, markdown: bool = False) -> str:
    rows = sorted(cpu.items(), key=lambda kv: -kv[1])
    if markdown:
        return "\n".join(
            ["| process | CPU (% of one core) |", "| --- | --- |"] + [f"| {k} | {v:.0f}% |" for k, v in rows]
        )
    return "\n".join(f"  {k:<40} {v:6.0f}%" for k, v in rows)


DEFINITIONS = """\
How each figure is measured (all on 127.0.0.1, all clients in processes of their own):

- **Join storm**: from the moment the subscriber processes are told to connect until the last
  of the sockets has received its `snapshot` (handshakes in flight bounded per client process,
  failed attempts retried with backoff and jitter like the phones' feed.js). Sockets are split
  evenly over the two Daphne ports: there is no load balancer, the clients split themselves.
- **Memory per socket**: growth of the resident memory (RSS) of the server processes from
  before the join storm to one second after it, divided by the number of sockets.
- **Fan-out deliveries/s**: for every tally message (one version), the time it took is from its
  arrival at the first socket to its arrival at the last socket; the rate is all deliveries
  divided by the union of those intervals (overlapping broadcasts are not charged twice). The
  limit is the same measure on a plain `websockets` + uvloop server (one process, `broadcast()`)
  sending a burst of tally-sized messages to the same number of sockets, read by the same client.
- **Vote→screen**: for every acknowledged vote of the vote storm and every subscriber, from the
  vote's `200` at the voting client to the first message at that subscriber that includes the
  vote. A message includes the vote when the proposal's count in it is ≥ the proposal's count
  right after that vote committed; that count comes from the vote ledger, whose rows are written
  in commit order per proposal (the proposal row lock serialises them). Every vote adds one dot,
  so counts only rise. A message that arrived before the `200` counts as 0 ms.
- **Vote ack**: open-loop load (requests are due at a fixed rate whatever the server does);
  latency from when a request was due to its response, so a server that falls behind cannot
  hide it. One client process with a pool of keep-alive connections per port (32 by default;
  a request waiting for a free connection is already late), requests split across the two
  ports by attendee; 10 s timeout.
- **Ingest capacity**: a ramp of open-loop steps starting at the storm's rate, ×1.5 while steps
  pass (÷1.5 while they fail), then two geometric bisections (quick: ×2, one bisection); a step
  passes with ack p99 < 1 s and no error (5 s request timeout). The hello-world limit runs the same
  ramp against a hello-world Django view in the same number of Daphne processes.
- **Checks**: after the load, every acknowledged vote must be a vote row, the proposal counters
  must equal the vote rows and the ledger replay, and every subscriber's last message must equal
  the database (counts and participation); a socket that closed, or never got its snapshot,
  counts as dropped.
"""


def render_markdown(r: dict, rows: list[Row]) -> str:
    p = r["product"]
    lines = [
        f"# Load benchmark ({r['mode']})",
        "",
        f"`{r['command']}` — {r['started']}, {r['wall_seconds']:.0f} s wall time, "
        f"{r['machine']['cores']} cores, load average at start {r['machine']['loadavg_start']}, "
        f"machine already {r['machine'].get('busy_before_pct', 0):.0f}% busy (of "
        f"{100 * r['machine']['cores']}%) before the run: other users' work makes every figure noisy.",
        "",
        f"Product: {r['config']['daphne_procs']} {r['config'].get('server', 'daphne').capitalize()} processes (one per core, clients split across "
        f"their ports, no load balancer), PostgreSQL, Redis; an event with {r['config']['proposals']} "
        f"proposals and {r['config']['attendees']:,} attendees; {r['config']['sockets']:,} websocket "
        f"subscribers; {r['config']['storm_rate']:.0f} votes/s for {r['config']['storm_seconds']:.0f} s.",
        "",
        render_table(rows, markdown=True),
        "",
        f"**Verdict: {'PASS' if r['passed'] else 'FAIL'}** — " + "; ".join(r["summary"]),
        "",
        "## CPU during the vote storm",
        "",
        render_cpu(p["cpu"], markdown=True),
        "",
        "## Ramp",
        "",
        "Open-loop steps; CPU in % of one core during the step (servers = both Daphne processes; "
        "client = the HTTP client process; machine = every process, other users' included).",
        "",
        "| load | offered/s | achieved/s | ack p50 | ack p99 | errors | servers CPU | client CPU | machine CPU | step |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, steps in (("hello-world", r["limits"]["hello"]["steps"]), ("votes", p["ramp"]["steps"])):
        for s in steps:
            d = s["detail"]
            cpu = d.get("cpu", {})
            servers = sum(v for k, v in cpu.items() if k.startswith("daphne"))
            lines.append(
                f"| {name} | {s['rate']:.0f} | {fmt(d.get('achieved'))} | {fmt(d.get('p50'), 'ms')} | "
                f"{fmt(d.get('p99'), 'ms')} | {d.get('failed', 0)} | {servers:.0f}% | "
                f"{cpu.get('client', 0):.0f}% | {cpu.get('machine', 0):.0f}% | {'pass' if s['passed'] else 'fail'} |"
            )
    lines += ["", DEFINITIONS]
    if p.get("profile"):
        lines += ["## Profile (py-spy, during the vote storm)", ""]
        for name, summary in p["profile"].items():
            lines.append(f"**{name}** ({summary['samples']} samples, idle excluded)")
            lines.append("")
            for group, entry in summary.get("threads", {}).items():
                busy = f", busy {entry['busy_pct']:.0f}% of the time" if "busy_pct" in entry else ""
                lines.append(f"- {group} ({entry['threads']} thread(s){busy}), top self time:")
                lines += [f"  - {share}% `{frame}`" for frame, share in entry["self"][:10]]
            lines.append("")
    if p["check"]["problems"]:
        lines += ["## Problems found", ""] + [f"- {x}" for x in p["check"]["problems"][:30]]
    return "\n".join(lines) + "\n"


def write(out_dir: Path, r: dict, rows: list[Row]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {**r, "rows": [asdict(row) for row in rows]}
    (out_dir / "load.json").write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")
    (out_dir / "load.md").write_text(render_markdown(r, rows))


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    return str(value)


def plot(path: Path, r: dict) -> None:
    """Latency over time during the vote storm, throughput during it, and the ramps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timeline, p, cfg = r["product"]["timeline"], r["product"], r["config"]
    fig, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(10, 11), constrained_layout=True, gridspec_kw={"height_ratios": [3, 2, 3]}
    )
    t = timeline["second"]

    def floor(values):  # ≤ 1 ms (the screen was updated before the ack arrived) drawn at 1 ms
        return [None if v is None else max(v, 1.0) for v in values]

    top.plot(t, floor(timeline["screen_p99"]), label="vote→screen p99", color="#c0392b", marker=".")
    top.plot(t, floor(timeline["screen_p50"]), label="vote→screen p50", color="#e67e22", marker=".")
    top.plot(t, floor(timeline["ack_p99"]), label="vote ack p99", color="#2c3e50", marker=".")
    top.plot(t, floor(timeline["ack_p50"]), label="vote ack p50", color="#7f8c8d", marker=".")
    top.axhline(750, color="#c0392b", linestyle=":", linewidth=1, label="target: vote→screen p99 ≤ 750 ms")
    top.axhline(100, color="#2c3e50", linestyle=":", linewidth=1, label="target: ack p99 ≤ 100 ms")
    top.set_yscale("log")
    top.set_ylim(bottom=0.8)
    top.set_ylabel("latency (ms, log)")
    fig.suptitle(
        f"Load benchmark ({r['mode']}, {r['started']}): {cfg['sockets']:,} subscribers, "
        f"{cfg['daphne_procs']} Daphne processes"
    )
    top.set_title(f"Vote storm at {cfg['storm_rate']:.0f} votes/s offered: latency", fontsize=10)
    top.grid(True, which="both", alpha=0.3)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)

    middle.plot(t, timeline["offered"], label="votes due", color="#95a5a6", linestyle="--")
    middle.plot(t, timeline["acked"], label="votes acknowledged", color="#27ae60")
    middle.plot(t, timeline["failed"], label="votes failed (error or 10 s timeout)", color="#c0392b")
    middle.set_title("Vote storm: throughput, and tallies reaching each subscriber", fontsize=10)
    middle.set_ylabel("votes per second")
    middle.set_xlabel("seconds into the vote storm")
    middle.grid(True, alpha=0.3)
    tallies = middle.twinx()
    tallies.plot(
        t, timeline["tallies_per_subscriber"], color="#8e44ad", linewidth=1, label="tallies/s per subscriber"
    )
    tallies.set_ylabel("tallies per second per subscriber", color="#8e44ad")
    handles = middle.get_legend_handles_labels()[0] + tallies.get_legend_handles_labels()[0]
    labels = middle.get_legend_handles_labels()[1] + tallies.get_legend_handles_labels()[1]
    middle.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8)

    for name, steps, color in (
        ("hello-world", r["limits"]["hello"]["steps"], "#7f8c8d"),
        ("votes", p["ramp"]["steps"], "#2980b9"),
    ):
        pts = sorted(
            (s["rate"], s["detail"].get("p99"), s["passed"]) for s in steps if s["detail"].get("p99")
        )
        if not pts:
            continue
        bottom.plot(
            [x for x, _, _ in pts], [y for _, y, _ in pts], marker="o", color=color, label=f"{name}: ack p99"
        )
        failed = [(x, y) for x, y, ok in pts if not ok]
        if failed:
            bottom.plot([x for x, _ in failed], [y for _, y in failed], "x", color="black", markersize=9)
    bottom.axhline(
        1000, color="black", linestyle=":", linewidth=1, label="step limit: p99 < 1 s (× = step failed)"
    )
    bottom.set_yscale("log")
    bottom.set_xscale("log")
    bottom.set_xlabel("offered rate (requests/s, log)")
    bottom.set_ylabel("ack p99 (ms, log)")
    bottom.set_title("Ramp: the highest rate with ack p99 < 1 s and no errors", fontsize=10)
    bottom.grid(True, which="both", alpha=0.3)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)
