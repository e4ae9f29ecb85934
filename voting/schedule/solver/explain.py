"""One sentence per placed or left-out session: why it is where it is."""

from collections.abc import Collection, Hashable, Mapping

from voting.schedule.solver.inputs import RoomInput, SessionInput, SlotInput

# Attendee key -> {session id: dots}.
Ballots = Mapping[Hashable, Mapping[int, int]]
# Host key -> slot ids that host cannot make.
Unavailability = Mapping[Hashable, Collection[int]]

COMPACT, SPREAD = "compact", "spread"


class Explainer:
    """Turns a finished schedule into one plain-text paragraph per session."""

    def __init__(
        self,
        *,
        chosen: list[SessionInput],
        rank_of: dict[int, int],
        shown_rank: dict[int, str],
        spans: dict[int, tuple[int, ...]],
        room_of: dict[int, int],
        room_by_id: dict[int, RoomInput],
        slot_by_id: dict[int, SlotInput],
        shared: dict[tuple[int, int], int],
        pinned_ids: set[int],
        pin_notes: dict[int, str],
        cut_ties: dict[int, int],
        titles: dict[int, str],
    ) -> None:
        self.titles = titles
        self.shown_rank = shown_rank
        self.spans = spans
        self.room_of = room_of
        self.room_by_id = room_by_id
        self.slot_by_id = slot_by_id
        self.pinned_ids = pinned_ids
        self.pin_notes = pin_notes
        self.cut_ties = cut_ties
        self.by_id = {s.id: s for s in chosen}
        self.pinned_rooms: dict[int, set[int]] = {}
        for sid in pinned_ids:
            for slot_id in spans[sid]:
                self.pinned_rooms.setdefault(slot_id, set()).add(room_of[sid])
        self.partners: dict[int, list[tuple[int, int]]] = {s.id: [] for s in chosen}
        for (a, b), count in shared.items():
            self.partners[a].append((count, b))
            self.partners[b].append((count, a))
        for partner_list in self.partners.values():
            partner_list.sort(key=lambda item: (-item[0], rank_of[item[1]]))

    def _together(self, a: int, b: int) -> bool:
        return bool(set(self.spans[a]) & set(self.spans[b]))

    def explain(self, s: SessionInput) -> str:
        room = self.room_by_id[self.room_of[s.id]]
        span = self.spans[s.id]
        parts = []
        if s.id in self.pinned_ids:
            slot = self.slot_by_id[span[0]]
            parts.append(f"Pinned by the organizers to {room.name} at {slot.label}.")
        parts.append(f"{self.shown_rank[s.id]} with {counted(s.dots, 'dot')}.")
        if s.id in self.cut_ties:
            other = self.cut_ties[s.id]
            parts.append(
                f"Tied with '{self.titles[other]}' on dots and voters at the cut line; "
                "the earlier proposal goes first."
            )
        if s.id in self.pin_notes:
            parts.append(self.pin_notes[s.id])
        if len(span) > 1:
            first, last = self.slot_by_id[span[0]].label, self.slot_by_id[span[-1]].label
            parts.append(f"Runs {len(span)} consecutive slots ({first} to {last}) in one room.")
        cohosted = [
            o
            for o in self.by_id.values()
            if o.id != s.id and s.hosts & o.hosts and not self._together(s.id, o.id)
        ]
        if cohosted:
            parts.append(f"Shares a host with '{cohosted[0].title}', so they run at different times.")
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
        apart = next((p for p in partners if not self._together(s.id, p[1])), None)
        together = [p for p in partners if self._together(s.id, p[1])]
        if apart is not None:
            count, other = apart
            sentences.append(
                f"Shares {counted(count, 'voter')} with '{self.by_id[other].title}', "
                "so they run at different times."
            )
        if together:
            count, other = together[0]
            verb = "Still shares" if apart is not None else "Shares"
            overlap = f"{verb} {counted(count, 'voter')} with '{self.by_id[other].title}'"
            if len(together) > 1:
                overlap += f" and overlaps with {counted(len(together) - 1, 'other session')}"
            if s.id in self.pinned_ids and other in self.pinned_ids:
                sentences.append(f"{overlap} in the same slot; both are pinned there.")
            else:
                sentences.append(
                    f"{overlap} in the same slot; no single move or swap of sessions "
                    "would lower the total clashes."
                )
        return sentences

    def _room_sentence(self, s: SessionInput, room: RoomInput) -> str:
        figures = f"({counted(s.voters, 'voter')}, capacity {room.capacity})"
        if s.id in self.pinned_ids:
            sentence = f"Room fixed by the pin {figures}."
        else:
            bigger = [r for r in self.room_by_id.values() if r.capacity > room.capacity]
            if not bigger:
                sentence = f"Largest room for its slot {figures}."
            else:
                sentence = f"{ordinal(len(bigger) + 1)}-largest room for its slot {figures}"
                held: set[int] = set()
                for slot_id in self.spans[s.id]:
                    held |= self.pinned_rooms.get(slot_id, set())
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
            sentence += f" Over capacity by {counted(s.voters - room.capacity, 'voter')}."
        return sentence


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"
