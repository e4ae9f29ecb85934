"""The local search that places sessions into slots under the hard constraints."""

import math
import random
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

from voting.schedule.solver.inputs import SessionInput, span_indices

# Attendee key -> {session id: dots}.
Ballots = Mapping[Hashable, Mapping[int, int]]
# Host key -> slot ids that host cannot make.
Unavailability = Mapping[Hashable, Collection[int]]

COMPACT, SPREAD = "compact", "spread"


@dataclass
class Arrangement:
    spans: dict[int, list[int]]  # unpinned session id -> slot indices
    bad: dict[int, tuple[str, int | None]]  # session id -> broken constraint (kind, other session)


def arrange(
    *,
    pinned: list[tuple[SessionInput, list[int]]],
    free: list[SessionInput],
    k: int,
    days: Sequence[Hashable],
    n_rooms: int,
    blocked_of,
    seed: int,
    effort: tuple[int, int],
    co_votes,
) -> Arrangement:
    """Slots for the free sessions within the first `k` slots, around the pinned ones.

    Clash weights plus a penalty larger than every clash together for each broken hard
    constraint, so the search never trades one for fewer clashes; what is still broken at
    the end is reported in `bad` (the caller opens a slot or skips a session).
    """
    units = [s for s, _ in pinned] + list(free)
    n, n_slots = len(units), len(days)
    index_of = {s.id: i for i, s in enumerate(units)}
    weights = co_votes(frozenset(index_of))
    rows = [[0] * n for _ in range(n)]
    for (a, b), w in weights.items():
        rows[index_of[a]][index_of[b]] = w
        rows[index_of[b]][index_of[a]] = w
    positive = [w for w in weights.values() if w > 0]
    mean_weight = sum(positive) / len(positive) if positive else 0.0
    big = (sum(weights.values()) + 1) * max((s.length for s in units), default=1) * 2
    hard_of: list[list[int]] = [[] for _ in range(n)]
    for i, a in enumerate(units):
        if not a.hosts:
            continue
        for j in range(i + 1, n):
            if a.hosts & units[j].hosts:
                rows[i][j] += big
                rows[j][i] += big
                hard_of[i].append(j)
                hard_of[j].append(i)
    block = []
    for s in units:
        blocked = blocked_of(s)
        block.append([big if t in blocked else 0 for t in range(n_slots)])
    options: list[dict[int, tuple[int, ...]]] = []
    fixed: list[int | None] = []
    for _, span in pinned:
        options.append({span[0]: tuple(span)})
        fixed.append(span[0])
    for s in free:
        starts = {}
        for t in range(k):
            span = span_indices(days, t, s.length)
            if len(span) == s.length and span[-1] < k:
                starts[t] = tuple(span)
        options.append(starts)
        fixed.append(None)

    rng = random.Random(seed)
    runs = []
    restarts, steps_per_session = effort
    for _ in range(restarts):
        state = SlotState(rows, block, options, fixed, n_slots, n_rooms, k)
        state.greedy_fill(rng, hard_of)
        if state.unplaced:
            return Arrangement({}, {units[i].id: ("room", None) for i in state.unplaced})
        state.anneal(rng, steps_per_session * n, mean_weight)
        runs.append((state.best_cost, state.best_start))
    _, best = min(runs, key=lambda run: run[0])  # earliest run wins ties
    state = SlotState(rows, block, options, fixed, n_slots, n_rooms, k)
    state.load(best)
    state.descend()
    spans = {units[i].id: list(options[i][state.start[i]]) for i in state.free}
    bad: dict[int, tuple[str, int | None]] = {}
    for i in state.free:
        span = set(options[i][state.start[i]])
        if any(block[i][t] for t in span):
            bad[units[i].id] = ("unavailable", None)
        for j in hard_of[i]:
            if span.intersection(options[j][state.start[j]]):
                bad[units[i].id] = ("host", units[j].id)
    return Arrangement(spans, bad)


# Simulated-annealing proposals per session per restart; sized so that 100 sessions with
# 5,000 ballots take about half a second in CPython while small instances reach the optimum.
STEPS_PER_SESSION = 2000
RESTARTS = 3
PROBE = (1, 300)  # restarts, steps per session: enough to meet the hard constraints when they can be


class SlotState:
    """Start slot per session plus, per slot, each session's total weight to that slot's members.

    A session of one slot moves and swaps in O(1) evaluation; a long session shifts to
    another start, moving a single session out of each slot it newly fills into a slot it
    leaves, evaluated in O(its length).
    """

    def __init__(
        self,
        weights: list[list[int]],
        block: list[list[int]],
        options: list[dict[int, tuple[int, ...]]],
        fixed: list[int | None],
        n_slots: int,
        per_slot: int,
        k: int,
    ) -> None:
        self.weights = weights
        self.block = block
        self.options = options
        self.n_slots = n_slots
        self.per_slot = per_slot
        self.k = k
        n = len(weights)
        self.free = [i for i in range(n) if fixed[i] is None]
        self.is_single = [
            fixed[i] is None and all(len(sp) == 1 for sp in options[i].values()) for i in range(n)
        ]
        self.singles = [i for i in self.free if self.is_single[i]]
        self.longs = [i for i in self.free if not self.is_single[i]]
        self.multi = [i for i in range(n) if any(len(sp) > 1 for sp in options[i].values())]
        self.span_sets = [{start: frozenset(span) for start, span in options[i].items()} for i in range(n)]
        self.max_length = max((len(span) for spans in options for span in spans.values()), default=1)
        self.start = [-1] * n
        self.count = [0] * n_slots
        self.members: list[list[int]] = [[] for _ in range(n_slots)]  # free single-slot sessions
        self.to_slot = [[0] * n for _ in range(n_slots)]  # to_slot[t][i]
        self.cost = 0
        self.best_start: list[int] = []
        self.best_cost = 0
        self.unplaced: list[int] = []
        for i, t in enumerate(fixed):
            if t is not None:
                self._add(i, t)

    def cost_at(self, i: int, s: int) -> int:
        block = self.block[i]
        span = self.options[i][s]
        if len(span) == 1:
            t = span[0]
            return self.to_slot[t][i] + block[t]
        cost = sum(self.to_slot[t][i] + block[t] for t in span)
        # Two long sessions sharing several slots clash once, not once per shared slot.
        mine = self.span_sets[i][s]
        reach = self.max_length - 2  # spans starting further apart share at most one slot
        for j in self.multi:
            start = self.start[j]
            if j != i and start >= 0 and abs(start - s) <= reach:
                shared = len(mine & self.span_sets[j][start])
                if shared > 1:
                    cost -= self.weights[i][j] * (shared - 1)
        return cost

    def _add(self, i: int, s: int) -> None:
        self.cost += self.cost_at(i, s)
        row = self.weights[i]
        for t in self.options[i][s]:
            self.to_slot[t] = [x + w for x, w in zip(self.to_slot[t], row, strict=True)]
            self.count[t] += 1
        if self.is_single[i]:
            self.members[s].append(i)
        self.start[i] = s

    def _remove(self, i: int) -> None:
        s = self.start[i]
        row = self.weights[i]
        for t in self.options[i][s]:
            self.to_slot[t] = [x - w for x, w in zip(self.to_slot[t], row, strict=True)]
            self.count[t] -= 1
        self.cost -= self.cost_at(i, s)
        if self.is_single[i]:
            self.members[s].remove(i)
        self.start[i] = -1

    def load(self, start: list[int]) -> None:
        for i in self.free:
            self._add(i, start[i])

    def greedy_fill(self, rng: random.Random, hard_of: list[list[int]]) -> None:
        # Long sessions first (they need room in several slots), then the most constrained,
        # then the heaviest, each into the open start where it costs least; random
        # tie-breaks make restarts differ.
        degree = [sum(w for w in row if w) for row in self.weights]
        keys = {i: rng.random() for i in self.free}
        order = sorted(
            self.free,
            key=lambda i: (
                self.is_single[i],
                -len(hard_of[i]),
                -sum(map(bool, self.block[i])),
                -degree[i],
                keys[i],
            ),
        )
        for i in order:
            fits = [
                s for s, span in self.options[i].items() if all(self.count[t] < self.per_slot for t in span)
            ]
            if not fits:
                self.unplaced.append(i)
                continue
            s = min(fits, key=lambda s: (self.cost_at(i, s), self.count[s], rng.random()))
            self._add(i, s)
        self.best_start, self.best_cost = list(self.start), self.cost

    def _move(self, i: int, a: int, b: int) -> None:
        row = self.weights[i]
        self.to_slot[a] = [x - w for x, w in zip(self.to_slot[a], row, strict=True)]
        self.to_slot[b] = [x + w for x, w in zip(self.to_slot[b], row, strict=True)]
        self.members[a].remove(i)
        self.members[b].append(i)
        self.count[a] -= 1
        self.count[b] += 1
        self.start[i] = b

    def _swap(self, i: int, j: int, a: int, b: int) -> None:
        diff = [wi - wj for wi, wj in zip(self.weights[i], self.weights[j], strict=True)]
        self.to_slot[a] = [x - d for x, d in zip(self.to_slot[a], diff, strict=True)]
        self.to_slot[b] = [x + d for x, d in zip(self.to_slot[b], diff, strict=True)]
        members_a, members_b = self.members[a], self.members[b]
        members_a[members_a.index(i)] = j
        members_b[members_b.index(j)] = i
        self.start[i], self.start[j] = b, a

    def _shift_plan(self, i: int, s_b: int, pick) -> list[tuple[int, int, int]] | None:
        """To move long session i to start s_b: which single session leaves each newly filled
        full slot, and for which slot i frees: [(j, from, to)]; None when one cannot."""
        old, new = self.options[i][self.start[i]], self.options[i][s_b]
        gained = [t for t in new if t not in old]
        freed = [t for t in old if t not in new]
        plan = []
        for t, destination in zip(gained, freed, strict=True):
            if self.count[t] >= self.per_slot:
                if not self.members[t]:
                    return None
                plan.append((pick(self.members[t]), t, destination))
        return plan

    def _shift_delta(self, i: int, s_b: int, plan: list[tuple[int, int, int]]) -> int:
        """The cost change of `_shift`, without changing anything: the evicted sessions leave
        slots i newly covers for slots it leaves, so they never meet each other or i."""
        weights, to_slot, block = self.weights[i], self.to_slot, self.block
        delta = self.cost_at(i, s_b) - self.cost_at(i, self.start[i])
        for j, t, destination in plan:
            delta += to_slot[destination][j] - weights[j] + block[j][destination]
            delta -= to_slot[t][j] + block[j][t] + weights[j]
        return delta

    def _shift(self, i: int, s_b: int, plan: list[tuple[int, int, int]]) -> None:
        """Move long session i to start s_b along `plan`."""
        self._remove(i)
        for j, _, destination in plan:
            self._remove(j)
            self._add(j, destination)
        self._add(i, s_b)

    def _cheapest_to_evict(self, members: list[int]) -> int:
        return min(members, key=lambda j: (self.to_slot[self.start[j]][j], j))

    def anneal(self, rng: random.Random, steps: int, mean_weight: float) -> None:
        if not self.free or self.k < 2 or mean_weight <= 0:
            return
        singles, start, count, members = self.singles, self.start, self.count, self.members
        weights, to_slot, per_slot, block = self.weights, self.to_slot, self.per_slot, self.block
        longs = self.longs
        # Start at half a typical pair weight; end where a +1 change (weights are whole dots)
        # is accepted ~4% of the time. Tuned on the benchmark instances.
        temp = 0.5 * mean_weight
        cooling = (0.3 / temp) ** (1.0 / steps)
        rand = rng.random
        n_singles, last = len(singles), self.k - 1
        long_share = len(longs) / len(self.free)
        for _ in range(steps):
            temp *= cooling
            if longs and rand() < long_share:
                i = longs[int(rand() * len(longs))]
                starts = [s for s in self.options[i] if s != start[i]]
                if not starts:
                    continue
                s_b = starts[int(rand() * len(starts))]
                plan = self._shift_plan(i, s_b, lambda m: m[int(rand() * len(m))])
                if plan is None:
                    continue
                delta = self._shift_delta(i, s_b, plan)
                if delta > 0 and rand() >= math.exp(-delta / temp):
                    continue
                self._shift(i, s_b, plan)
                if self.cost < self.best_cost:
                    self.best_cost, self.best_start = self.cost, list(start)
                continue
            if not n_singles:
                continue
            i = singles[int(rand() * n_singles)]
            a = start[i]
            b = int(rand() * last)
            if b >= a:
                b += 1
            row_a, row_b = to_slot[a], to_slot[b]
            if count[b] < per_slot:
                j = -1
                delta = row_b[i] - row_a[i] + block[i][b] - block[i][a]
            else:
                others = members[b]
                if not others:
                    continue
                j = others[int(rand() * len(others))]
                delta = (
                    row_b[i]
                    - row_a[i]
                    + row_a[j]
                    - row_b[j]
                    - 2 * weights[i][j]
                    + block[i][b]
                    - block[i][a]
                    + block[j][a]
                    - block[j][b]
                )
            if delta > 0 and rand() >= math.exp(-delta / temp):
                continue
            if j < 0:
                self._move(i, a, b)
            else:
                self._swap(i, j, a, b)
            self.cost += delta
            if self.cost < self.best_cost:
                self.best_cost, self.best_start = self.cost, list(start)

    def descend(self) -> None:
        """Apply improving moves, swaps and shifts until none is left."""
        improved = True
        block = self.block
        while improved:
            improved = False
            for i in self.singles:
                a = self.start[i]
                for b in range(self.k):
                    if b == a:
                        continue
                    if self.count[b] < self.per_slot:
                        delta = self.to_slot[b][i] - self.to_slot[a][i] + block[i][b] - block[i][a]
                        if delta < 0:
                            self._move(i, a, b)
                            self.cost += delta
                            improved = True
                            break
                    for j in self.members[b]:
                        delta = (
                            self.to_slot[b][i]
                            - self.to_slot[a][i]
                            + self.to_slot[a][j]
                            - self.to_slot[b][j]
                            - 2 * self.weights[i][j]
                            + block[i][b]
                            - block[i][a]
                            + block[j][a]
                            - block[j][b]
                        )
                        if delta < 0:
                            self._swap(i, j, a, b)
                            self.cost += delta
                            improved = True
                            break
                    if self.start[i] != a:
                        break
            for i in self.longs:
                for s in list(self.options[i]):
                    if s == self.start[i]:
                        continue
                    plan = self._shift_plan(i, s, self._cheapest_to_evict)
                    if plan is not None and self._shift_delta(i, s, plan) < 0:
                        self._shift(i, s, plan)
                        improved = True
