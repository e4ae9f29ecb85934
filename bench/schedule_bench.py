"""Benchmark the schedule builder against naive baselines and the CBC-proven optimum."""

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pulp

from voting.scheduling import (
    Ballots,
    RoomInput,
    SessionInput,
    SlotInput,
    build_schedule,
    clash_total,
    pair_weights,
    ranked,
)

OUT_DIR = Path(__file__).resolve().parent / "out"
CBC_TIME_LIMIT = 60
OPTIMUM_TOLERANCE = 0.02
NAIVE_TARGET, ROUND_ROBIN_TARGET = 0.60, 0.30
RUNTIME_TARGET_S = 2.0
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

    @property
    def name(self) -> str:
        stacked = ", stacked dots" if self.stacked else ""
        return f"{self.proposals} props, {self.rooms}x{self.slots}, {self.attendees} att, seed {self.seed}{stacked}"


SMALL = [Spec(12, 3, 4, 150, seed) for seed in (1, 2, 3)] + [Spec(18, 3, 6, 300, seed) for seed in (1, 2, 3)]
EXTRA_SMALL = [
    Spec(30, 3, 6, 400, 1),  # more proposals than cells: the builder picks 18
    Spec(14, 4, 4, 200, 1),  # fewer proposals than cells: two empty cells
    Spec(16, 4, 4, 200, 1, stacked=True),
    Spec(24, 4, 6, 500, 1),
]
TARGET_60 = [Spec(60, 6, 10, 2000, seed, exact=False) for seed in (1, 2, 3)]
LARGE_100 = [Spec(100, 10, 10, 5000, seed, exact=False) for seed in (1, 2)]
FULL = SMALL + EXTRA_SMALL + TARGET_60 + LARGE_100
QUICK = [SMALL[0], SMALL[3], EXTRA_SMALL[1], TARGET_60[0], LARGE_100[0]]


@dataclass(frozen=True)
class Instance:
    sessions: list[SessionInput]
    rooms: list[RoomInput]
    slots: list[SlotInput]
    ballots: Ballots


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
    slots = [SlotInput(id=200 + t, label=f"Slot {t + 1}") for t in range(spec.slots)]
    return Instance(sessions, rooms, slots, ballots)


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


def run(spec: Spec) -> dict[str, object]:
    instance = generate(spec)
    started = time.perf_counter()
    result = build_schedule(
        sessions=instance.sessions, rooms=instance.rooms, slots=instance.slots, ballots=instance.ballots
    )
    builder_seconds = time.perf_counter() - started
    # Baselines and the exact solver place exactly the sessions the builder scheduled.
    scheduled = {p.session_id for p in result.placements}
    order = [s.id for s in ranked(instance.sessions) if s.id in scheduled]
    naive = clash_total(slot_of=naive_slots(order, spec.rooms), ballots=instance.ballots)
    round_robin = clash_total(slot_of=round_robin_slots(order, spec.slots), ballots=instance.ballots)
    exact = exact_optimum(order, spec.rooms, spec.slots, instance.ballots) if spec.exact else None
    return {
        **asdict(spec),
        "name": spec.name,
        "scheduled": len(scheduled),
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
        "| CBC optimum | builder/opt | CBC s | Builder s | Over cap. |"
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
            f"| {row['builder_seconds']:.3f} | {row['over_capacity']} |"
        )
    return "\n".join(lines)


def checks(rows: list[dict[str, object]]) -> list[tuple[bool, str]]:
    outcomes = []
    for row in rows:
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
