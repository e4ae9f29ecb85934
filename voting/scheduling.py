"""Pure-Python schedule builder: top proposals into rooms x slots with few attendee clashes."""

import math
import random
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

# Attendee key -> {session id: dots}.
Ballots = Mapping[Hashable, Mapping[int, int]]


@dataclass(frozen=True)
class SessionInput:
    id: int
    title: str
    dots: int
    voters: int
    pinned_room: int | None = None
    pinned_slot: int | None = None


@dataclass(frozen=True)
class RoomInput:
    id: int
    name: str
    capacity: int


@dataclass(frozen=True)
class SlotInput:
    """One time slot; the builder receives slots in chronological order."""

    id: int
    label: str


@dataclass(frozen=True)
class Placement:
    session_id: int
    room_id: int
    slot_id: int
    pinned: bool
    explanation: str


@dataclass(frozen=True)
class ScheduleResult:
    """The schedule plus what the organizers need to review it.

    placements: ordered by slot (chronological), then by room in input order.
    clash_total: see `clash_total`.
    over_capacity: scheduled sessions whose voters exceed their room's capacity, by rank.
    unscheduled: sessions that did not get a cell, by rank.
    dropped_pins: sessions whose pin could not be honoured (half pin, unknown room or
        slot, or a cell already pinned by a higher-ranked session), by rank.
    """

    placements: tuple[Placement, ...]
    clash_total: int
    over_capacity: tuple[int, ...]
    unscheduled: tuple[int, ...]
    dropped_pins: tuple[int, ...]


def ranked(sessions: Sequence[SessionInput]) -> list[SessionInput]:
    """Sessions by dots, most first; ties broken by id so the order never depends on input order."""
    return sorted(sessions, key=lambda s: (-s.dots, s.id))


def clash_total(*, slot_of: Mapping[int, int], ballots: Ballots) -> int:
    """Sum over attendees of dots_a * dots_b for each pair of their sessions sharing a slot.

    Sessions missing from `slot_of` (unscheduled) never clash.
    """
    total = 0
    for ballot in ballots.values():
        per_slot: dict[int, list[int]] = {}
        for session_id, dots in ballot.items():
            if dots > 0 and session_id in slot_of:
                per_slot.setdefault(slot_of[session_id], []).append(dots)
        for dots_list in per_slot.values():
            # Sum of pairwise products without the pair loop.
            total += (sum(dots_list) ** 2 - sum(d * d for d in dots_list)) // 2
    return total


def pair_weights(*, session_ids: Collection[int], ballots: Ballots) -> dict[tuple[int, int], int]:
    """Clash cost of running two sessions in the same slot, keyed by (lower id, higher id)."""
    return _co_votes(session_ids, ballots)[0]


def _co_votes(
    session_ids: Collection[int], ballots: Ballots
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Pairwise dot-product weights and shared-voter counts among `session_ids`."""
    wanted = set(session_ids)
    weights: dict[tuple[int, int], int] = {}
    shared: dict[tuple[int, int], int] = {}
    for ballot in ballots.values():
        items = sorted((sid, dots) for sid, dots in ballot.items() if dots > 0 and sid in wanted)
        for k, (a, dots_a) in enumerate(items):
            for b, dots_b in items[k + 1 :]:
                weights[a, b] = weights.get((a, b), 0) + dots_a * dots_b
                shared[a, b] = shared.get((a, b), 0) + 1
    return weights, shared


def build_schedule(
    *,
    sessions: Sequence[SessionInput],
    rooms: Sequence[RoomInput],
    slots: Sequence[SlotInput],
    ballots: Ballots,
    seed: int = 0,
) -> ScheduleResult:
    """Fill rooms x slots with the top proposals, minimising clashes, and explain every placement.

    Pins: a pin needs both a room and a slot that exist. When two sessions are pinned to the
    same cell the higher-ranked one keeps it. Every session whose pin was dropped is reported
    in `dropped_pins` and gets first claim, in rank order, on the cells left after the pins,
    since the organizers clearly want it to run; everything else fills the rest by rank.
    Sessions without votes still fill otherwise empty cells.
    """
    _require_unique_ids("session", [s.id for s in sessions])
    _require_unique_ids("room", [r.id for r in rooms])
    _require_unique_ids("slot", [t.id for t in slots])

    order = ranked(sessions)
    rank_of = {s.id: position for position, s in enumerate(order, start=1)}
    room_by_id = {r.id: r for r in rooms}
    slot_index = {t.id: index for index, t in enumerate(slots)}

    pinned_cells, pin_notes = _resolve_pins(order, room_by_id, slot_index)
    free_cells = len(rooms) * len(slots) - len(pinned_cells)
    pinned_ids = {s.id for s in pinned_cells.values()}
    candidates = [s for s in order if s.id in pin_notes] + [
        s for s in order if s.id not in pin_notes and s.id not in pinned_ids
    ]
    chosen_ids = pinned_ids | {s.id for s in candidates[:free_cells]}
    chosen = [s for s in order if s.id in chosen_ids]
    unscheduled = tuple(s.id for s in order if s.id not in chosen_ids)
    dropped = tuple(s.id for s in order if s.id in pin_notes)

    if not chosen:
        return ScheduleResult((), 0, (), unscheduled, dropped)

    index_of = {s.id: i for i, s in enumerate(chosen)}
    weights, shared = _co_votes(index_of, ballots)
    n = len(chosen)
    weight_rows = [[0] * n for _ in range(n)]
    for (a, b), w in weights.items():
        weight_rows[index_of[a]][index_of[b]] = w
        weight_rows[index_of[b]][index_of[a]] = w
    fixed: list[int | None] = [None] * n
    for (_, slot_id), s in pinned_cells.items():
        fixed[index_of[s.id]] = slot_index[slot_id]

    slot_of_index = _assign_slots(weight_rows, fixed, len(slots), len(rooms), random.Random(seed))

    room_position = {r.id: position for position, r in enumerate(rooms)}
    slot_of = {s.id: slots[slot_of_index[i]].id for i, s in enumerate(chosen)}
    room_of = _assign_rooms(chosen, slot_of, rooms, pinned_cells, rank_of)
    explainer = _Explainer(
        chosen=chosen,
        rank_of=rank_of,
        slot_of=slot_of,
        room_of=room_of,
        room_by_id=room_by_id,
        slot_by_id={t.id: t for t in slots},
        shared=shared,
        pinned_ids=pinned_ids,
        pin_notes=pin_notes,
    )
    placements = tuple(
        sorted(
            (
                Placement(
                    session_id=s.id,
                    room_id=room_of[s.id],
                    slot_id=slot_of[s.id],
                    pinned=s.id in pinned_ids,
                    explanation=explainer.explain(s),
                )
                for s in chosen
            ),
            key=lambda p: (slot_index[p.slot_id], room_position[p.room_id]),
        )
    )
    over = tuple(s.id for s in chosen if s.voters > room_by_id[room_of[s.id]].capacity)
    return ScheduleResult(
        placements=placements,
        clash_total=clash_total(slot_of=slot_of, ballots=ballots),
        over_capacity=over,
        unscheduled=unscheduled,
        dropped_pins=dropped,
    )


def _resolve_pins(
    order: list[SessionInput], room_by_id: Mapping[int, RoomInput], slot_index: Mapping[int, int]
) -> tuple[dict[tuple[int, int], SessionInput], dict[int, str]]:
    """Honoured pins by (room id, slot id), and why each other pin was dropped, by session id."""
    pinned_cells: dict[tuple[int, int], SessionInput] = {}
    pin_notes: dict[int, str] = {}
    for s in order:
        if s.pinned_room is None and s.pinned_slot is None:
            continue
        if s.pinned_room is None or s.pinned_slot is None:
            pin_notes[s.id] = "Its pin names only a room or only a slot, so it was placed freely."
        elif s.pinned_room not in room_by_id or s.pinned_slot not in slot_index:
            pin_notes[s.id] = (
                "It was pinned to a room or slot that is not in this schedule, so it was placed freely."
            )
        elif (s.pinned_room, s.pinned_slot) in pinned_cells:
            holder = pinned_cells[s.pinned_room, s.pinned_slot]
            pin_notes[s.id] = (
                f"It was pinned to the same room and slot as higher-ranked '{holder.title}', "
                "so it was placed freely."
            )
        else:
            pinned_cells[s.pinned_room, s.pinned_slot] = s
    return pinned_cells, pin_notes


def _assign_rooms(
    chosen: list[SessionInput],
    slot_of: Mapping[int, int],
    rooms: Sequence[RoomInput],
    pinned_cells: Mapping[tuple[int, int], SessionInput],
    rank_of: Mapping[int, int],
) -> dict[int, int]:
    """Room id per session: pins first, then within each slot most voters to biggest room."""
    room_of = {s.id: room_id for (room_id, _), s in pinned_cells.items()}
    position = {r.id: index for index, r in enumerate(rooms)}
    by_size = sorted(rooms, key=lambda r: (-r.capacity, position[r.id]))
    per_slot: dict[int, list[SessionInput]] = {}
    for s in chosen:
        if s.id not in room_of:
            per_slot.setdefault(slot_of[s.id], []).append(s)
    for slot_id, here in per_slot.items():
        taken = {room_id for (room_id, pinned_slot) in pinned_cells if pinned_slot == slot_id}
        free_rooms = [r for r in by_size if r.id not in taken]
        here.sort(key=lambda s: (-s.voters, rank_of[s.id]))
        for s, room in zip(here, free_rooms, strict=False):
            room_of[s.id] = room.id
    return room_of


def _require_unique_ids(kind: str, ids: list[int]) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate {kind} ids")


# Simulated-annealing proposals per session per restart; sized so that 100 sessions with
# 5,000 ballots take about half a second in CPython while small instances reach the optimum.
_STEPS_PER_SESSION = 2000
_RESTARTS = 3


def _assign_slots(
    weights: list[list[int]],
    fixed: list[int | None],
    n_slots: int,
    per_slot: int,
    rng: random.Random,
) -> list[int]:
    """Partition sessions into slots of at most `per_slot`, minimising same-slot weight.

    Greedy start, then simulated annealing with O(1) move evaluation, then a swap/move
    descent so the result is a local optimum. The work budget is a step count, not a clock,
    so the same input always gives the same answer.
    """
    runs = []
    for _ in range(_RESTARTS):
        state = _SlotState(weights, fixed, n_slots, per_slot)
        state.greedy_fill(rng)
        state.anneal(rng, _STEPS_PER_SESSION * len(weights))
        runs.append((state.best_cost, state.best_slot))
    _, best_slot = min(runs, key=lambda run: run[0])  # earliest run wins ties
    state = _SlotState(weights, fixed, n_slots, per_slot)
    state.load(best_slot)
    state.descend()
    return state.slot


class _SlotState:
    """Slot assignment plus, per slot, each session's total weight to that slot's members."""

    def __init__(
        self, weights: list[list[int]], fixed: list[int | None], n_slots: int, per_slot: int
    ) -> None:
        self.weights = weights
        self.fixed = fixed
        self.n_slots = n_slots
        self.per_slot = per_slot
        n = len(weights)
        self.free = [i for i in range(n) if fixed[i] is None]
        self.slot = [-1] * n
        self.count = [0] * n_slots
        self.members: list[list[int]] = [[] for _ in range(n_slots)]  # free sessions only
        self.to_slot = [[0] * n for _ in range(n_slots)]  # to_slot[t][i]
        self.cost = 0
        self.best_slot: list[int] = []
        self.best_cost = 0
        for i, t in enumerate(fixed):
            if t is not None:
                self._place(i, t)

    def _place(self, i: int, t: int) -> None:
        self.cost += self.to_slot[t][i]
        self.slot[i] = t
        self.count[t] += 1
        if self.fixed[i] is None:
            self.members[t].append(i)
        self.to_slot[t] = [x + w for x, w in zip(self.to_slot[t], self.weights[i], strict=True)]

    def load(self, slot: list[int]) -> None:
        for i in self.free:
            self._place(i, slot[i])

    def greedy_fill(self, rng: random.Random) -> None:
        # Heaviest sessions first, each into the open slot where it clashes least; random
        # tie-breaks make restarts differ.
        degree = [sum(row) for row in self.weights]
        keys = {i: rng.random() for i in self.free}
        for i in sorted(self.free, key=lambda i: (-degree[i], keys[i])):
            open_slots = [t for t in range(self.n_slots) if self.count[t] < self.per_slot]
            t = min(open_slots, key=lambda t: (self.to_slot[t][i], self.count[t], rng.random()))
            self._place(i, t)
        self.best_slot, self.best_cost = list(self.slot), self.cost

    def _move(self, i: int, a: int, b: int) -> None:
        row = self.weights[i]
        self.to_slot[a] = [x - w for x, w in zip(self.to_slot[a], row, strict=True)]
        self.to_slot[b] = [x + w for x, w in zip(self.to_slot[b], row, strict=True)]
        self.members[a].remove(i)
        self.members[b].append(i)
        self.count[a] -= 1
        self.count[b] += 1
        self.slot[i] = b

    def _swap(self, i: int, j: int, a: int, b: int) -> None:
        diff = [wi - wj for wi, wj in zip(self.weights[i], self.weights[j], strict=True)]
        self.to_slot[a] = [x - d for x, d in zip(self.to_slot[a], diff, strict=True)]
        self.to_slot[b] = [x + d for x, d in zip(self.to_slot[b], diff, strict=True)]
        members_a, members_b = self.members[a], self.members[b]
        members_a[members_a.index(i)] = j
        members_b[members_b.index(j)] = i
        self.slot[i], self.slot[j] = b, a

    def anneal(self, rng: random.Random, steps: int) -> None:
        if not self.free or self.n_slots < 2:
            return
        free, slot, count, members = self.free, self.slot, self.count, self.members
        weights, to_slot, per_slot = self.weights, self.to_slot, self.per_slot
        positive = [w for row in weights for w in row if w > 0]
        if not positive:
            return
        # Start at half a typical pair weight; end where a +1 change (weights are whole dots)
        # is accepted ~4% of the time. Tuned on the benchmark instances.
        temp = 0.5 * sum(positive) / len(positive)
        cooling = (0.3 / temp) ** (1.0 / steps)
        rand = rng.random
        n_free, last = len(free), self.n_slots - 1
        for _ in range(steps):
            temp *= cooling
            i = free[int(rand() * n_free)]
            a = slot[i]
            b = int(rand() * last)
            if b >= a:
                b += 1
            row_a, row_b = to_slot[a], to_slot[b]
            if count[b] < per_slot:
                j = -1
                delta = row_b[i] - row_a[i]
            else:
                others = members[b]
                if not others:
                    continue
                j = others[int(rand() * len(others))]
                delta = row_b[i] - row_a[i] + row_a[j] - row_b[j] - 2 * weights[i][j]
            if delta > 0 and rand() >= math.exp(-delta / temp):
                continue
            if j < 0:
                self._move(i, a, b)
            else:
                self._swap(i, j, a, b)
            self.cost += delta
            if self.cost < self.best_cost:
                self.best_cost, self.best_slot = self.cost, list(slot)

    def descend(self) -> None:
        """Apply improving moves and swaps until none is left."""
        improved = True
        while improved:
            improved = False
            for i in self.free:
                a = self.slot[i]
                for b in range(self.n_slots):
                    if b == a:
                        continue
                    if self.count[b] < self.per_slot:
                        delta = self.to_slot[b][i] - self.to_slot[a][i]
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
                        )
                        if delta < 0:
                            self._swap(i, j, a, b)
                            self.cost += delta
                            improved = True
                            break
                    if self.slot[i] != a:
                        break


class _Explainer:
    """Turns a finished schedule into one plain-text paragraph per session."""

    def __init__(
        self,
        *,
        chosen: list[SessionInput],
        rank_of: dict[int, int],
        slot_of: dict[int, int],
        room_of: dict[int, int],
        room_by_id: dict[int, RoomInput],
        slot_by_id: dict[int, SlotInput],
        shared: dict[tuple[int, int], int],
        pinned_ids: set[int],
        pin_notes: dict[int, str],
    ) -> None:
        self.rank_of = rank_of
        self.slot_of = slot_of
        self.room_of = room_of
        self.room_by_id = room_by_id
        self.slot_by_id = slot_by_id
        self.pinned_ids = pinned_ids
        self.pin_notes = pin_notes
        self.by_id = {s.id: s for s in chosen}
        self.pinned_rooms: dict[int, set[int]] = {}
        for sid in pinned_ids:
            self.pinned_rooms.setdefault(slot_of[sid], set()).add(room_of[sid])
        self.partners: dict[int, list[tuple[int, int]]] = {s.id: [] for s in chosen}
        for (a, b), count in shared.items():
            self.partners[a].append((count, b))
            self.partners[b].append((count, a))
        for partner_list in self.partners.values():
            partner_list.sort(key=lambda item: (-item[0], rank_of[item[1]]))

    def explain(self, s: SessionInput) -> str:
        room = self.room_by_id[self.room_of[s.id]]
        parts = []
        if s.id in self.pinned_ids:
            slot = self.slot_by_id[self.slot_of[s.id]]
            parts.append(f"Pinned by the organizers to {room.name} at {slot.label}.")
        parts.append(f"Ranked #{self.rank_of[s.id]} with {_count(s.dots, 'dot')}.")
        if s.id in self.pin_notes:
            parts.append(self.pin_notes[s.id])
        parts.extend(self._clash_sentences(s))
        parts.append(self._room_sentence(s, room))
        return " ".join(parts)

    def _clash_sentences(self, s: SessionInput) -> list[str]:
        partners = self.partners[s.id]
        if not partners:
            if s.voters == 0 and s.dots == 0:
                if s.id in self.pinned_ids:
                    return ["Nobody has voted for it yet."]
                return ["Nobody has voted for it yet, so it simply fills a free cell."]
            return ["None of its voters picked another scheduled session, so it cannot clash."]
        sentences = []
        mine = self.slot_of[s.id]
        apart = next((p for p in partners if self.slot_of[p[1]] != mine), None)
        together = [p for p in partners if self.slot_of[p[1]] == mine]
        if apart is not None:
            count, other = apart
            sentences.append(
                f"Shares {_count(count, 'voter')} with '{self.by_id[other].title}', "
                "so they run at different times."
            )
        if together:
            count, other = together[0]
            verb = "Still shares" if apart is not None else "Shares"
            overlap = f"{verb} {_count(count, 'voter')} with '{self.by_id[other].title}'"
            if len(together) > 1:
                overlap += f" and overlaps with {_count(len(together) - 1, 'other session')}"
            if s.id in self.pinned_ids and other in self.pinned_ids:
                sentences.append(f"{overlap} in the same slot; both are pinned there.")
            else:
                sentences.append(
                    f"{overlap} in the same slot; no single move or swap of sessions "
                    "would lower the total clashes."
                )
        return sentences

    def _room_sentence(self, s: SessionInput, room: RoomInput) -> str:
        figures = f"({_count(s.voters, 'voter')}, capacity {room.capacity})"
        if s.id in self.pinned_ids:
            sentence = f"Room fixed by the pin {figures}."
        else:
            bigger = [r for r in self.room_by_id.values() if r.capacity > room.capacity]
            if not bigger:
                sentence = f"Largest room for its slot {figures}."
            else:
                sentence = f"{_ordinal(len(bigger) + 1)}-largest room for its slot {figures}"
                held = self.pinned_rooms.get(self.slot_of[s.id], set())
                pinned_bigger = sum(1 for r in bigger if r.id in held)
                if pinned_bigger == len(bigger) == 1:
                    sentence += "; the bigger room is pinned to another session"
                elif pinned_bigger == len(bigger):
                    sentence += "; the bigger rooms are pinned to other sessions"
                elif pinned_bigger:
                    verb = "is" if pinned_bigger == 1 else "are"
                    sentence += (
                        f"; {pinned_bigger} of the {len(bigger)} bigger rooms {verb} pinned to other sessions"
                    )
                sentence += "."
        if s.voters > room.capacity:
            sentence += f" Over capacity by {_count(s.voters - room.capacity, 'voter')}."
        return sentence


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"
