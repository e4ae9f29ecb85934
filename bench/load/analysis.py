"""Pure functions that turn raw timings into the figures, and the checks that fail the run.

No I/O, no Django, no sockets: everything here takes plain numbers and arrays, so the
harness's own correctness (does it notice a lost vote, a wrong tally, a dropped socket?) is
tested on small fake inputs in tests/test_bench_harness.py.

Clocks: every timestamp is `time.monotonic()`, which on Linux is one system-wide clock, so
times taken in different client processes compare directly.
"""

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

# --- vote plan ---------------------------------------------------------------------------------


def vote_target(j: int, *, attendees: int, proposals: int, budget: int) -> tuple[int, int] | None:
    """The j-th vote of the run: (attendee index, proposal index), or None when the plan is used up.

    Every vote adds one dot: attendee `j % attendees` votes in round `j // attendees` for a
    proposal it has not voted for yet, and never more rounds than its budget. Rounds are
    spread over the proposals so that every proposal gets votes at the same pace.
    """
    rounds = min(budget, proposals)
    round_, attendee = divmod(j, attendees)
    if j < 0 or round_ >= rounds:
        return None
    step = max(1, proposals // rounds)
    return attendee, (attendee + round_ * step) % proposals


def plan_size(*, attendees: int, proposals: int, budget: int) -> int:
    return attendees * min(budget, proposals)


# --- percentiles and histograms ----------------------------------------------------------------


def percentiles(values, qs=(50, 95, 99)) -> dict[str, float | None]:
    """{"p50": …} in the unit of `values`; None for every q when there is no value."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {f"p{q}": None for q in qs}
    return {f"p{q}": float(np.percentile(arr, q)) for q in qs}


def hist_percentile(hist: np.ndarray, q: float, bin_ms: float) -> float | None:
    """The q-th percentile of a latency histogram (upper edge of the bin, in ms)."""
    total = int(hist.sum())
    if total == 0:
        return None
    rank = math.ceil(q / 100 * total)
    index = int(np.searchsorted(np.cumsum(hist), max(rank, 1)))
    return (index + 1) * bin_ms


# --- vote → screen ------------------------------------------------------------------------------


def first_arrival_at_or_after(arrivals: np.ndarray) -> np.ndarray:
    """F[v, s]: when socket s first received a message of version index ≥ v (NaN: never).

    `arrivals[v, s]` is when socket s received version index v (NaN if it did not). A socket
    receives versions in rising order, so the first message at or after v is the earliest
    arrival among the versions from v on.
    """
    if arrivals.size == 0:
        return arrivals.copy()
    return np.fmin.accumulate(arrivals[::-1], axis=0)[::-1]


def first_version_showing(version_counts: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Index of the first version whose count for the proposal is ≥ needed (len: never).

    `version_counts` is the proposal's count in each version, in version order. Counts only
    rise in this benchmark (every vote adds a dot), so a running maximum guards against a
    message that was missing the proposal.
    """
    rising = np.maximum.accumulate(version_counts)
    return np.searchsorted(rising, needed, side="left")


@dataclass
class ScreenLatency:
    """vote → screen latency over every (acknowledged vote, subscriber) pair, as histograms."""

    bin_ms: float
    hist: np.ndarray
    buckets: np.ndarray  # per bucket of the vote's ack time (seconds), one histogram each
    pairs: int = 0
    unseen_pairs: int = 0  # a subscriber never received any message including the vote
    never_shown: int = 0  # no version at all included the vote (a lost vote, as far as screens go)

    def percentile(self, q: float) -> float | None:
        return hist_percentile(self.hist, q, self.bin_ms)

    def bucket_percentile(self, bucket: int, q: float) -> float | None:
        return hist_percentile(self.buckets[bucket], q, self.bin_ms)


def vote_to_screen(
    *,
    ack_times: np.ndarray,
    proposals: np.ndarray,
    needed: np.ndarray,
    version_counts: dict[int, np.ndarray],
    arrivals: np.ndarray,
    bin_ms: float = 1.0,
    max_ms: float = 60_000.0,
    bucket_origin: float | None = None,
    bucket_seconds: float = 1.0,
    n_buckets: int = 0,
) -> ScreenLatency:
    """From each vote's `200` to the first message at each subscriber that includes it.

    A message includes a vote when the proposal's count in it is ≥ `needed`, the proposal's
    count right after that vote committed (from the ledger). A message received before the
    `200` counts as 0 ms. `arrivals` is versions × sockets (monotonic seconds, NaN: not
    received); `version_counts[pid]` the proposal's count in each of those versions.
    """
    n_bins = int(max_ms / bin_ms) + 1
    hist = np.zeros(n_bins, dtype=np.int64)
    buckets = np.zeros((max(n_buckets, 0), n_bins), dtype=np.int64)
    result = ScreenLatency(bin_ms=bin_ms, hist=hist, buckets=buckets)
    if len(ack_times) == 0 or arrivals.size == 0:
        result.never_shown = len(ack_times)
        return result
    n_versions = arrivals.shape[0]
    first = first_arrival_at_or_after(arrivals)
    shown_at = np.full(len(ack_times), n_versions, dtype=np.int64)
    for pid in np.unique(proposals):
        mask = proposals == pid
        counts = version_counts.get(int(pid))
        if counts is not None:
            shown_at[mask] = first_version_showing(counts, needed[mask])
    result.never_shown = int((shown_at >= n_versions).sum())
    for version_index in np.unique(shown_at[shown_at < n_versions]):
        votes = np.flatnonzero(shown_at == version_index)
        row = first[version_index]
        seen = row[~np.isnan(row)]
        result.unseen_pairs += (row.size - seen.size) * votes.size
        if seen.size == 0:
            continue
        latency_ms = (seen[None, :] - ack_times[votes][:, None]) * 1000.0
        bins = np.clip(latency_ms / bin_ms, 0, n_bins - 1).astype(np.int64)
        hist += np.bincount(bins.ravel(), minlength=n_bins)
        result.pairs += bins.size
        if n_buckets and bucket_origin is not None:
            which = np.clip(
                ((ack_times[votes] - bucket_origin) // bucket_seconds).astype(np.int64), 0, n_buckets - 1
            )
            for bucket in np.unique(which):
                sel = bins[which == bucket]
                buckets[bucket] += np.bincount(sel.ravel(), minlength=n_bins)
    return result


# --- fan-out ------------------------------------------------------------------------------------


def union_length(intervals: Iterable[tuple[float, float]]) -> float:
    """Total time covered by the intervals (overlaps counted once)."""
    total, end = 0.0, -math.inf
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


@dataclass
class Fanout:
    broadcasts: int
    deliveries: int
    busy_seconds: float
    rate: float | None  # deliveries per second while a broadcast was on its way
    spread_ms: dict  # per broadcast: first socket → last socket
    receivers: list = field(default_factory=list)


def fanout(arrivals: np.ndarray, *, min_receivers: int = 2) -> Fanout:
    """Deliveries per second: messages received by all sockets over the time they took.

    For each broadcast (a row of `arrivals`: one version, its arrival time at each socket),
    the time it took is from its arrival at the first socket to its arrival at the last one.
    The rate is every delivery divided by the union of those intervals, so that broadcasts
    that overlap (a burst) are not charged twice for the same second.
    """
    intervals, spreads, receivers, deliveries = [], [], [], 0
    for row in arrivals:
        seen = row[~np.isnan(row)]
        if seen.size < min_receivers:
            continue
        first, last = float(seen.min()), float(seen.max())
        intervals.append((first, last))
        spreads.append((last - first) * 1000.0)
        receivers.append(int(seen.size))
        deliveries += int(seen.size)
    busy = union_length(intervals)
    return Fanout(
        broadcasts=len(intervals),
        deliveries=deliveries,
        busy_seconds=busy,
        rate=deliveries / busy if busy > 0 else None,
        spread_ms=percentiles(spreads, (50, 95, 99, 100)),
        receivers=receivers,
    )


# --- ramp ---------------------------------------------------------------------------------------


@dataclass
class RampStep:
    rate: float
    passed: bool
    detail: dict = field(default_factory=dict)


def find_capacity(
    run_step: Callable[[float], RampStep],
    *,
    start: float,
    factor: float = 1.5,
    refine: int = 2,
    min_rate: float = 10.0,
    max_rate: float = 5000.0,
    max_steps: int = 10,
) -> tuple[float | None, list[RampStep]]:
    """The highest offered rate whose step passed, and every step run.

    Up by `factor` while steps pass (down while they fail), then `refine` geometric
    bisections between the highest pass and the lowest fail. Bounded by `max_steps`.
    """
    steps: list[RampStep] = []
    passed: float | None = None
    failed: float | None = None
    rate = start
    while len(steps) < max_steps and min_rate <= rate <= max_rate:
        step = run_step(rate)
        steps.append(step)
        if step.passed:
            passed = rate if passed is None else max(passed, rate)
            if failed is not None:
                break
            rate = rate * factor
        else:
            failed = rate if failed is None else min(failed, rate)
            if passed is not None:
                break
            rate = rate / factor
    for _ in range(refine):
        if passed is None or failed is None or len(steps) >= max_steps:
            break
        rate = math.sqrt(passed * failed)
        step = run_step(rate)
        steps.append(step)
        if step.passed:
            passed = rate
        else:
            failed = rate
    return passed, steps


# --- correctness --------------------------------------------------------------------------------


@dataclass
class Check:
    """The end-of-run verdict on correctness: every count must be zero."""

    lost_votes: int = 0
    tally_mismatches: int = 0
    dropped_sockets: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost_votes == 0 and self.tally_mismatches == 0 and self.dropped_sockets == 0

    def fail_lines(self, limit: int = 12) -> list[str]:
        lines = []
        if self.lost_votes:
            lines.append(f"FAIL: {self.lost_votes} acknowledged vote(s) are not in the database (lost)")
        if self.tally_mismatches:
            lines.append(f"FAIL: {self.tally_mismatches} tally mismatch(es)")
        if self.dropped_sockets:
            lines.append(f"FAIL: {self.dropped_sockets} websocket(s) dropped or never got their snapshot")
        extra = len(self.problems) - limit
        lines += [f"  - {p}" for p in self.problems[:limit]]
        if extra > 0:
            lines.append(f"  - … and {extra} more")
        return lines


Counts = dict[int, tuple[int, int]]  # proposal id -> (dots, voters)


def check_votes(
    check: Check,
    *,
    acked: set[tuple[int, int]],
    unknown: set[tuple[int, int]],
    db_pairs: set[tuple[int, int]],
    db_counts: Counts,
    recount: Counts,
    replay: Counts,
    bad_acks: int = 0,
) -> Check:
    """Acknowledged votes against the database: nothing lost, nothing invented, counters right.

    acked: (attendee, proposal) pairs whose PUT got a 200 with the dot in its body.
    unknown: pairs whose request failed or timed out (they may or may not have committed).
    db_pairs: vote rows in the database; db_counts: the proposals' counters; recount: the
    counts from the vote rows; replay: the counts from replaying the ledger.
    """
    lost = sorted(acked - db_pairs)
    check.lost_votes += len(lost)
    for attendee, proposal in lost[:5]:
        check.problems.append(
            f"vote of attendee {attendee} on proposal {proposal} was acknowledged but is not stored"
        )
    invented = sorted(db_pairs - acked - unknown)
    if invented:
        check.tally_mismatches += len(invented)
        check.problems.append(
            f"{len(invented)} vote row(s) in the database that no request made, e.g. {invented[0]}"
        )
    if bad_acks:
        check.tally_mismatches += bad_acks
        check.problems.append(f"{bad_acks} `200` response(s) whose body did not show the dot just set")
    for pid in sorted(set(db_counts) | set(recount) | set(replay)):
        counter, rows, ledger = db_counts.get(pid, (0, 0)), recount.get(pid, (0, 0)), replay.get(pid, (0, 0))
        if counter != rows:
            check.tally_mismatches += 1
            check.problems.append(f"proposal {pid}: counters {counter} != vote rows {rows}")
        if ledger != rows:
            check.tally_mismatches += 1
            check.problems.append(f"proposal {pid}: ledger replay {ledger} != vote rows {rows}")
    return check


def check_screens(
    check: Check,
    *,
    expected: Counts,
    expected_participation: dict,
    last_states: list[dict | None],
    statuses: list[str],
    regressions: int = 0,
) -> Check:
    """Every subscriber's last message against the database; every socket still open.

    last_states[i]: the counts and participation of the last message socket i received
    ({"counts": {pid: (dots, voters)}, "participation": {...}}), or None if it got nothing.
    statuses[i]: "open" while the socket is fine, anything else ("dropped", "failed") counts.
    regressions: messages that arrived with a lower version than one already received.
    """
    wrong = []
    for index, (state, status) in enumerate(zip(last_states, statuses, strict=True)):
        if status != "open":
            check.dropped_sockets += 1
            if check.dropped_sockets <= 5:
                check.problems.append(f"socket {index} is {status}")
            continue
        counts_differ = state is None or state.get("counts") != expected
        participation_differs = bool(expected_participation) and (
            state is None or state.get("participation") != expected_participation
        )
        if counts_differ or participation_differs:
            wrong.append(index)
    if wrong:
        check.tally_mismatches += len(wrong)
        sample = last_states[wrong[0]]
        got = None if sample is None else diff_counts(sample.get("counts") or {}, expected)
        check.problems.append(
            f"{len(wrong)} subscriber(s) last saw a tally that differs from the database "
            f"(socket {wrong[0]}: {got or sample and sample.get('participation')})"
        )
    if regressions:
        check.tally_mismatches += regressions
        check.problems.append(f"{regressions} message(s) arrived with a lower version than one already shown")
    return check


def diff_counts(got: Counts, expected: Counts, limit: int = 3) -> str:
    diffs = [
        f"proposal {pid}: {got.get(pid)} instead of {expected.get(pid)}"
        for pid in sorted(set(got) | set(expected))
        if got.get(pid) != expected.get(pid)
    ]
    return "; ".join(diffs[:limit]) + (" …" if len(diffs) > limit else "")


# --- profiles -----------------------------------------------------------------------------------


def summarize_collapsed(
    lines: Iterable[str], top: int = 15, seconds: float | None = None, rate: int = 100
) -> dict:
    """Top functions of a py-spy `--format raw` profile (collapsed stacks: `a;b;c 12`).

    self: samples where the function was running; total: samples where it was on the stack.
    With `--threads` the first frame names the thread (`thread (123): MainThread`); samples are
    then also split into the event loop (MainThread) and the other threads, and with the
    recording's `seconds` and `rate` each group's busy share is given (idle samples are not
    recorded, so 100% means the thread never waited).
    """
    own, total, samples = Counter(), Counter(), 0
    groups: dict[str, Counter] = {}
    group_samples: Counter = Counter()
    thread_ids: dict[str, set] = {}
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        group = None
        if frames[0].startswith("thread ("):
            thread_id, _, name = frames[0].partition(": ")
            group = "event loop (MainThread)" if name == "MainThread" else "other threads"
            thread_ids.setdefault(group, set()).add(thread_id)
            frames = frames[1:] or ["(thread)"]
        samples += n
        own[frames[-1]] += n
        for frame in dict.fromkeys(frames):  # once per sample, in stack order (deterministic ties)
            total[frame] += n
        if group is not None:
            group_samples[group] += n
            groups.setdefault(group, Counter())[frames[-1]] += n
    if samples == 0:
        return {"samples": 0, "self": [], "total": [], "threads": {}}

    def share(counter, of=samples):
        return [(name, round(100.0 * k / of, 1)) for name, k in counter.most_common(top)]

    threads = {}
    for group, counter in groups.items():
        entry = {
            "samples": group_samples[group],
            "threads": len(thread_ids[group]),
            "self": share(counter, group_samples[group]),
        }
        if seconds:
            entry["busy_pct"] = round(100.0 * group_samples[group] / (seconds * rate), 1)
        threads[group] = entry
    return {"samples": samples, "self": share(own), "total": share(total), "threads": threads}
