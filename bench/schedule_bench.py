"""Benchmark the schedule builder against naive baselines and the CBC-proven optimum.

Constrained instances add what organizers face (contract 5.1): authors with 2–3 proposals,
co-hosts, hosts who cannot make some slots, double-length sessions, slots over two days. The
exact solver then gets the same hard constraints and the same slots the builder used.
"""

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pulp

from voting.schedule.solver.build import build_schedule
from voting.schedule.solver.inputs import (
    Ballots,
    RoomInput,
    SessionInput,
    SlotInput,
    Unavailability,
    clash_total,
    constraint_conflicts,
    pair_weights,
    ranked,
    span_indices,
)

OUT_DIR = Path(__file__).resolve().parent / "out"
CBC_TIME_LIMIT = 60
OPTIMUM_TOLERANCE = 0.02
NAIVE_TARGET, ROUND_ROBIN_TARGET = 0.60, 0.30
RUNTIME_TARGET_S = 2.0
TIMED_RUNS = 5
ZIPF_EXPONENT = 1.0


@dataclass(frozen=True)
class Spec:
    proposals: int
    rooms: int
    slots: int
    attendees: int
    seed: int
    stacked: bool = False  # attendees may put 1-3 dots on one proposal
    exact: bool = True  # small enough to ask CBC for the optimum
    constrained: bool = False  # hosts, co-hosts, availability, long sessions, two days

    @property
    def name(self) -> str:
        stacked = ", stacked dots" if self.stacked else ""
        constrained = ", hosts+avail.+long" if self.constrained else ""
        return (
            f"{self.proposals} props, {self.rooms}x{self.slots}, {self.attendees} att, seed {self.seed}"
            f"{stacked}{constrained}"
        )


SMALL = [Spec(12, 3, 4, 150, seed) for seed in (1, 2, 3)] + [Spec(18, 3, 6, 300, seed) for seed in (1, 2, 3)]
EXTRA_SMALL = [
    Spec(30, 3, 6, 400, 1),  # more proposals than cells: the builder picks 18
    Spec(14, 4, 4, 200, 1),  # fewer proposals than cells: two empty cells
    Spec(16, 4, 4, 200, 1, stacked=True),
    Spec(24, 4, 6, 500, 1),
]
TARGET_60 = [Spec(60, 6, 10, 2000, seed, exact=False) for seed in (1, 2, 3)]
LARGE_100 = [Spec(100, 10, 10, 5000, seed, exact=False) for seed in (1, 2)]
CONSTRAINED = (
    [Spec(12, 3, 4, 150, seed, constrained=True) for seed in (1, 2, 3)]
    + [Spec(15, 3, 5, 200, seed, constrained=True) for seed in (1, 2)]
    + [Spec(18, 3, 6, 300, seed, constrained=True) for seed in (1, 2, 3)]
    + [Spec(14, 4, 4, 200, 1, constrained=True), Spec(24, 4, 6, 500, 1, constrained=True)]
    + [Spec(60, 6, 10, 2000, seed, exact=False, constrained=True) for seed in (1, 2)]
    + [Spec(100, 10, 10, 5000, seed, exact=False, constrained=True) for seed in (1, 2)]
)
FULL = SMALL + EXTRA_SMALL + TARGET_60 + LARGE_100 + CONSTRAINED
QUICK = [SMALL[0], SMALL[3], EXTRA_SMALL[1], TARGET_60[0], LARGE_100[0], CONSTRAINED[3], CONSTRAINED[-1]]


@dataclass(frozen=True)
class Instance:
    sessions: list[SessionInput]
    rooms: list[RoomInput]
    slots: list[SlotInput]
    ballots: Ballots
    unavailable: Unavailability


def add_constraints(spec: Spec, sessions: list[SessionInput], slots: list[SlotInput], rng: random.Random):
    """Hosts as at a real unconference: about half the proposals come from authors with 2–3
    of them, one in five has a co-host (often someone who hosts elsewhere too), a quarter of
    the hosts cannot make one slot, one in ten sessions runs for two slots."""
    authors: list[list[int]] = []
    hosts_of: dict[int, set[str]] = {}
    for s in sessions:
        busy = [a for a, owned in enumerate(authors) if len(owned) < 3]
        if busy and rng.random() < 0.5:
            author = rng.choice(busy)
        else:
            author = len(authors)
            authors.append([])
        authors[author].append(s.id)
        hosts_of[s.id] = {f"host-{author}"}
    for s in sessions:
        if rng.random() < 0.2:
            hosts_of[s.id].add(f"host-{rng.randrange(len(authors))}")
    unavailable = {f"host-{a}": [rng.choice(slots).id] for a in range(len(authors)) if rng.random() < 0.25}
    sessions = [
        replace(s, hosts=frozenset(hosts_of[s.id]), length=2 if rng.random() < 0.1 else 1) for s in sessions
    ]
    return sessions, unavailable


def generate(spec: Spec) -> Instance:
    """Zipf-like proposal popularity; each attendee dots 3-5 distinct proposals by popularity."""
    rng = random.Random(spec.seed * 1_000_003 + spec.proposals)
    ids = list(range(1, spec.proposals + 1))
    rng.shuffle(ids)  # popularity unrelated to id, so id tie-breaks are exercised
    cumulative = list(itertools.accumulate(1 / (k + 1) ** ZIPF_EXPONENT for k in range(spec.proposals)))
    ballots: dict[str, dict[int, int]] = {}
    for attendee in range(spec.attendees):
        picks: set[int] = set()
        wanted = min(rng.randint(3, 5), spec.proposals)
        while len(picks) < wanted:
            picks.add(ids[rng.choices(range(spec.proposals), cum_weights=cumulative)[0]])
        ballots[f"attendee-{attendee}"] = {
            sid: rng.randint(1, 3) if spec.stacked else 1 for sid in sorted(picks)
        }
    sessions = [
        SessionInput(
            id=sid,
            title=f"Proposal {sid}",
            dots=sum(b.get(sid, 0) for b in ballots.values()),
            voters=sum(sid in b for b in ballots.values()),
        )
        for sid in range(1, spec.proposals + 1)
    ]
    # Room sizes fall off like a real venue (one hall, ever smaller rooms) and together seat
    # everyone at once with a little slack.
    shares = [1 / (r + 1) for r in range(spec.rooms)]
    rooms = [
        RoomInput(
            id=100 + r, name=f"Room {r + 1}", capacity=round(1.1 * spec.attendees * share / sum(shares))
        )
        for r, share in enumerate(shares)
    ]
    if not spec.constrained:
        slots = [SlotInput(id=200 + t, label=f"Slot {t + 1}") for t in range(spec.slots)]
        return Instance(sessions, rooms, slots, ballots, {})
    days = 2 if spec.slots >= 6 else 1
    slots = [
        SlotInput(id=200 + t, label=f"Slot {t + 1}", day=t * days // spec.slots) for t in range(spec.slots)
    ]
    sessions, unavailable = add_constraints(spec, sessions, slots, rng)
    return Instance(sessions, rooms, slots, ballots, unavailable)


def naive_slots(order: Sequence[int], per_slot: int) -> dict[int, int]:
    """Whiteboard order: the top `per_slot` sessions in slot 0, the next ones in slot 1, ..."""
    return {sid: k // per_slot for k, sid in enumerate(order)}


def round_robin_slots(order: Sequence[int], n_slots: int) -> dict[int, int]:
    """Deal the ranking across slots like cards."""
    return {sid: k % n_slots for k, sid in enumerate(order)}


@dataclass(frozen=True)
class Exact:
    optimum: int | None  # None unless CBC proved optimality
    incumbent: int | None  # CBC's best clash total when it ran out of time
    status: str
    seconds: float


def exact_optimum(session_ids: Sequence[int], n_rooms: int, n_slots: int, ballots: Ballots) -> Exact:
    """Clique-partition MILP: z[a, b] = 1 iff a and b share a slot; minimise co-vote weight.

    Empty cells become zero-weight dummy sessions, so every slot holds exactly `n_rooms`
    sessions and slot labels (a source of symmetry) vanish from the model.
    """
    weights = pair_weights(session_ids=session_ids, ballots=ballots)
    dummies = [-(k + 1) for k in range(n_rooms * n_slots - len(session_ids))]
    members = sorted(session_ids) + dummies
    prob = pulp.LpProblem("slots", pulp.LpMinimize)
    z = {
        (a, b): pulp.LpVariable(f"z_{i}_{j}", cat=pulp.LpBinary)
        for (i, a), (j, b) in itertools.combinations(enumerate(members), 2)
    }

    def same(a: int, b: int) -> pulp.LpVariable:
        return z[a, b] if (a, b) in z else z[b, a]

    prob += pulp.lpSum(weights.get((a, b), 0) * var for (a, b), var in z.items())
    for a in members:
        prob += pulp.lpSum(same(a, b) for b in members if b != a) == n_rooms - 1
    for a, b, c in itertools.combinations(members, 3):
        # "Same slot" is transitive.
        prob += same(a, b) + same(b, c) - same(a, c) <= 1
        prob += same(a, b) + same(a, c) - same(b, c) <= 1
        prob += same(a, c) + same(b, c) - same(a, b) <= 1
    started = time.perf_counter()
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=CBC_TIME_LIMIT))
    seconds = time.perf_counter() - started
    proven = status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal
    if not proven:
        found = prob.sol_status == pulp.LpSolutionIntegerFeasible
        incumbent = round(pulp.value(prob.objective)) if found else None
        return Exact(None, incumbent, "not proven", seconds)
    # Re-score CBC's partition with the shared clash function, so the model cannot drift from it.
    slot_of: dict[int, int] = {}
    for a in members:
        if a not in slot_of:
            group = len(set(slot_of.values()))
            slot_of[a] = group
            slot_of.update({b: group for b in members if b != a and same(a, b).value() > 0.5})
    optimum = clash_total(slot_of={a: t for a, t in slot_of.items() if a > 0}, ballots=ballots)
    if optimum != round(pulp.value(prob.objective)):
        raise RuntimeError(f"CBC objective {pulp.value(prob.objective)} != re-scored clashes {optimum}")
    return Exact(optimum, None, "proven optimal", seconds)


def _first_fit(order: Sequence[int], lengths: dict[int, int], n_rooms: int, days: list, starts) -> dict:
    """Slot indices per session: each at the first start (in the order `starts(k)` gives for
    the k-th session) whose slots all have a free room; a long session keeps to its day."""
    load = [0] * len(days)
    spans = {}
    for k, sid in enumerate(order):
        for start in starts(k):
            span = span_indices(days, start, lengths[sid])
            if len(span) == lengths[sid] and all(load[t] < n_rooms for t in span):
                spans[sid] = span
                for t in span:
                    load[t] += 1
                break
    return spans


def breaches(spans_by_id: dict[int, list[int]], instance: Instance) -> int:
    """Hard constraints broken: a host in two places, a host at a slot they cannot make."""
    by_id = {s.id: s for s in instance.sessions}
    found = constraint_conflicts(
        spans={sid: (sid, span) for sid, span in spans_by_id.items()},  # rooms are not the point here
        lengths={sid: len(span) for sid, span in spans_by_id.items()},
        hosts={sid: by_id[sid].hosts for sid in spans_by_id},
        unavailable=instance.unavailable,
        titles={sid: str(sid) for sid in spans_by_id},
        slot_labels={t.id: t.label for t in instance.slots},
        room_names={sid: str(sid) for sid in spans_by_id},
    )
    return len(found)


def exact_with_constraints(
    session_ids: Sequence[int], instance: Instance, n_rooms: int, usable: int
) -> Exact:
    """Start-slot MILP with the builder's hard constraints, over the first `usable` slots:
    x[i, s] = session i starts in slot s; a host is in at most one session per slot; no
    session in a slot one of its hosts cannot make; z[a, b] >= both in slot t - 1."""
    by_id = {s.id: s for s in instance.sessions}
    days = [t.day for t in instance.slots][:usable]
    weights = pair_weights(session_ids=session_ids, ballots=instance.ballots)
    prob = pulp.LpProblem("slots_with_hosts", pulp.LpMinimize)
    covers: dict[tuple[int, int], list] = {}
    spans_of: dict[tuple[int, int], list[int]] = {}
    for sid in session_ids:
        s = by_id[sid]
        blocked = {
            index
            for index, slot in enumerate(instance.slots[:usable])
            for h in s.hosts
            if slot.id in instance.unavailable.get(h, ())
        }
        options = []
        for start in range(usable):
            span = span_indices(days, start, s.length)
            if len(span) == s.length and not blocked.intersection(span):
                var = pulp.LpVariable(f"x_{sid}_{start}", cat=pulp.LpBinary)
                options.append(var)
                spans_of[sid, start] = span
                for t in span:
                    covers.setdefault((sid, t), []).append(var)
        if not options:
            return Exact(None, None, "infeasible", 0.0)
        prob += pulp.lpSum(options) == 1

    def occ(sid: int, t: int):
        return pulp.lpSum(covers.get((sid, t), []))

    z = {
        pair: pulp.LpVariable(f"z_{pair[0]}_{pair[1]}", cat=pulp.LpBinary) for pair, w in weights.items() if w
    }
    prob += pulp.lpSum(weights[pair] * var for pair, var in z.items())
    for t in range(usable):
        prob += pulp.lpSum(occ(sid, t) for sid in session_ids) <= n_rooms
        for (a, b), var in z.items():
            if covers.get((a, t)) and covers.get((b, t)):
                prob += var >= occ(a, t) + occ(b, t) - 1
    hosts = sorted({h for sid in session_ids for h in by_id[sid].hosts})
    for h in hosts:
        mine = [sid for sid in session_ids if h in by_id[sid].hosts]
        if len(mine) > 1:
            for t in range(usable):
                prob += pulp.lpSum(occ(sid, t) for sid in mine) <= 1
    started = time.perf_counter()
    status = prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=CBC_TIME_LIMIT))
    seconds = time.perf_counter() - started
    proven = status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal
    if not proven:
        found = prob.sol_status == pulp.LpSolutionIntegerFeasible
        incumbent = round(pulp.value(prob.objective)) if found else None
        return Exact(None, incumbent, "not proven" if found or status == 0 else "infeasible", seconds)
    chosen = {}
    for var in prob.variables():
        if var.name.startswith("x_") and var.value() > 0.5:
            _, sid, start = var.name.split("_")
            chosen[int(sid)] = tuple(instance.slots[t].id for t in spans_of[int(sid), int(start)])
    optimum = clash_total(slot_of=chosen, ballots=instance.ballots)
    if optimum != round(pulp.value(prob.objective)):
        raise RuntimeError(f"CBC objective {pulp.value(prob.objective)} != re-scored clashes {optimum}")
    return Exact(optimum, None, "proven optimal", seconds)


def run(spec: Spec) -> dict[str, object]:
    instance = generate(spec)
    # The fastest of a few runs: the machine is shared, and the answer is the same every time.
    timings = []
    for _ in range(TIMED_RUNS if spec.proposals >= 60 else 1):
        started = time.perf_counter()
        result = build_schedule(
            sessions=instance.sessions,
            rooms=instance.rooms,
            slots=instance.slots,
            ballots=instance.ballots,
            unavailable=instance.unavailable,
        )
        timings.append(time.perf_counter() - started)
    builder_seconds = min(timings)
    # Baselines and the exact solver place exactly the sessions the builder scheduled.
    scheduled = {p.session_id for p in result.placements}
    order = [s.id for s in ranked(instance.sessions) if s.id in scheduled]
    if spec.constrained:
        lengths = {s.id: s.length for s in instance.sessions}
        days = [t.day for t in instance.slots]
        n = len(days)
        naive_spans = _first_fit(order, lengths, spec.rooms, days, lambda k: range(n))
        rr_spans = _first_fit(order, lengths, spec.rooms, days, lambda k: [(k + j) % n for j in range(n)])
        ids = {sid: [instance.slots[t].id for t in span] for sid, span in naive_spans.items()}
        rr_ids = {sid: [instance.slots[t].id for t in span] for sid, span in rr_spans.items()}
        naive = clash_total(slot_of={k: tuple(v) for k, v in ids.items()}, ballots=instance.ballots)
        round_robin = clash_total(slot_of={k: tuple(v) for k, v in rr_ids.items()}, ballots=instance.ballots)
        builder_spans = {p.session_id: list(p.slot_ids) for p in result.placements}
        broken = (breaches(ids, instance), breaches(rr_ids, instance), breaches(builder_spans, instance))
        exact = exact_with_constraints(order, instance, spec.rooms, result.slots_used) if spec.exact else None
    else:
        naive = clash_total(slot_of=naive_slots(order, spec.rooms), ballots=instance.ballots)
        round_robin = clash_total(slot_of=round_robin_slots(order, spec.slots), ballots=instance.ballots)
        broken = None
        exact = exact_optimum(order, spec.rooms, spec.slots, instance.ballots) if spec.exact else None
    return {
        **asdict(spec),
        "name": spec.name,
        "scheduled": len(scheduled),
        "unscheduled_by_constraint": sum(u.reason.startswith("Skipped") for u in result.unscheduled),
        "slots_used": result.slots_used,
        "breaches": broken,
        "builder": result.clash_total,
        "naive": naive,
        "round_robin": round_robin,
        "optimum": exact.optimum if exact else None,
        "cbc_incumbent": exact.incumbent if exact else None,
        "cbc_status": exact.status if exact else "not attempted",
        "cbc_seconds": round(exact.seconds, 2) if exact else None,
        "builder_seconds": round(builder_seconds, 3),
        "over_capacity": len(result.over_capacity),
    }


def ratio(numerator: int, denominator: int | None) -> str:
    if denominator is None:
        return "n/a"
    if denominator == 0:
        return "1.00" if numerator == 0 else "inf"
    return f"{numerator / denominator:.2f}"


def table(rows: list[dict[str, object]]) -> str:
    header = (
        "| Instance | Scheduled | Naive | Round-robin | Builder | builder/naive | builder/RR "
        "| CBC optimum | builder/opt | CBC s | Builder s | Over cap. | Slots used | Breaches naive/RR/builder |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for row in rows:
        if row["optimum"] is not None:
            optimum = str(row["optimum"])
        elif row["cbc_incumbent"] is not None:
            optimum = f"not proven (CBC best {row['cbc_incumbent']})"
        else:
            optimum = row["cbc_status"]
        cbc_seconds = "" if row["cbc_seconds"] is None else f"{row['cbc_seconds']:.1f}"
        lines.append(
            f"| {row['name']} | {row['scheduled']} | {row['naive']} | {row['round_robin']} "
            f"| {row['builder']} | {ratio(row['builder'], row['naive'])} "
            f"| {ratio(row['builder'], row['round_robin'])} | {optimum} "
            f"| {ratio(row['builder'], row['optimum'])} | {cbc_seconds} "
            f"| {row['builder_seconds']:.3f} | {row['over_capacity']} | {row['slots_used']} "
            f"| {'/'.join(map(str, row['breaches'])) if row['breaches'] else '–'} |"
        )
    return "\n".join(lines)


def checks(rows: list[dict[str, object]]) -> list[tuple[bool, str]]:
    outcomes = []
    for row in rows:
        if row["breaches"]:
            outcomes.append(
                (
                    row["breaches"][2] == 0,
                    f"{row['name']}: the builder broke {row['breaches'][2]} hard constraints (needs 0; "
                    f"naive {row['breaches'][0]}, round-robin {row['breaches'][1]})",
                )
            )
        if row["optimum"] is not None:
            limit = row["optimum"] * (1 + OPTIMUM_TOLERANCE)
            outcomes.append(
                (
                    row["builder"] <= limit,
                    f"{row['name']}: builder {row['builder']} vs proven optimum {row['optimum']} "
                    f"(builder/opt = {ratio(row['builder'], row['optimum'])}, needs <= {1 + OPTIMUM_TOLERANCE:.2f})",
                )
            )
        if (row["proposals"], row["rooms"], row["slots"], row["attendees"]) == (60, 6, 10, 2000):
            outcomes.append(
                (
                    row["builder"] <= (1 - NAIVE_TARGET) * row["naive"],
                    f"{row['name']}: builder/naive = {ratio(row['builder'], row['naive'])} "
                    f"(needs <= {1 - NAIVE_TARGET:.2f}, i.e. >= {NAIVE_TARGET:.0%} fewer clashes)",
                )
            )
            outcomes.append(
                (
                    row["builder"] <= (1 - ROUND_ROBIN_TARGET) * row["round_robin"],
                    f"{row['name']}: builder/RR = {ratio(row['builder'], row['round_robin'])} "
                    f"(needs <= {1 - ROUND_ROBIN_TARGET:.2f}, i.e. >= {ROUND_ROBIN_TARGET:.0%} fewer clashes)",
                )
            )
        if row["proposals"] >= 100 and row["attendees"] >= 5000:
            outcomes.append(
                (
                    row["builder_seconds"] < RUNTIME_TARGET_S,
                    f"{row['name']}: builder took {row['builder_seconds']:.3f} s (needs < {RUNTIME_TARGET_S:.0f} s)",
                )
            )
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast subset of the instances")
    args = parser.parse_args(argv)
    specs = QUICK if args.quick else FULL
    rows = []
    for number, spec in enumerate(specs, start=1):
        print(f"[{number}/{len(specs)}] {spec.name} ...", file=sys.stderr, flush=True)
        row = run(spec)
        print(
            f"    builder {row['builder']} in {row['builder_seconds']:.3f} s, naive {row['naive']}, "
            f"round-robin {row['round_robin']}, CBC {row['cbc_status']} {row['optimum'] or ''}".rstrip(),
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
    outcomes = checks(rows)
    report = "\n".join(
        [
            "## Schedule builder vs baselines",
            "",
            table(rows),
            "",
            *(f"{'PASS' if ok else 'FAIL'} {message}" for ok, message in outcomes),
        ]
    )
    print(report)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "schedule.md").write_text(report + "\n")
    (OUT_DIR / "schedule.json").write_text(
        json.dumps(
            {"rows": rows, "checks": [{"pass": ok, "check": message} for ok, message in outcomes]},
            indent=2,
        )
        + "\n"
    )
    return 0 if all(ok for ok, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
