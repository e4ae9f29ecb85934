"""A reference model of the counting rules, and the application driven through its real faces.

The property-based tests (tests/test_counts_invariant.py) run random sequences of what
attendees and organizers do through the real API — votes through both vote paths, the one
answered on the event loop (voting/votes/fast_path.py) and DRF's — and after every step compare
what the product shows with this model: results, the live tally, the console's list, every
attendee's `/me`, the vote rows and the ledger's replay. The model is the contract written as
plain Python: a vote sets dots within the budget and the cap, dots live only on published
proposals, leaving `published` refunds every dot with one ledger row each, and starting a
round keeps the ending round's counts as its results, takes what it scheduled out of play and
gives everyone a fresh budget.
"""

import asyncio
import json
import threading
from dataclasses import dataclass, field

from rest_framework.test import APIClient

from tests.feed_support import call, close_sync_thread_connections
from voting.core import loop_db
from voting.feed import messages
from voting.models import Event, LedgerEntry, Proposal, ProposalStatus, Vote
from voting.votes import services as vote_services

PUBLISHED = ProposalStatus.PUBLISHED
LEAVING_CAUSES = {"hidden": "hidden", "pending": "pending", "withdrawn": "withdrawn"}


@dataclass
class Model:
    """What the contract says the state is."""

    budget: int
    cap: int
    flag_open: bool = True
    deadline_passed: bool = False
    status: dict[int, str] = field(default_factory=dict)  # proposal id -> status
    author: dict[int, int | None] = field(default_factory=dict)  # proposal id -> attendee index
    votes: dict[tuple[int, int], int] = field(default_factory=dict)  # (attendee, proposal) -> dots
    done: set[int] = field(default_factory=set)  # proposals scheduled in an ended round
    ended: dict[int, dict[int, dict[str, int]]] = field(default_factory=dict)  # round id -> its counts

    @property
    def voting_open(self) -> bool:
        return self.flag_open and not self.deadline_passed

    def held(self, attendee: int) -> dict[int, int]:
        return {p: d for (a, p), d in self.votes.items() if a == attendee}

    def counts(self) -> dict[int, dict[str, int]]:
        totals = {
            p: {"dots": 0, "voters": 0}
            for p, s in self.status.items()
            if s == PUBLISHED and p not in self.done
        }
        for (_, p), dots in self.votes.items():
            totals[p]["dots"] += dots
            totals[p]["voters"] += 1
        return totals

    def vote_outcome(self, attendee: int, proposal: int, dots: int) -> int:
        """The status a vote must get, in the order the rules are checked."""
        if not self.voting_open:
            return 409
        if not 0 <= dots <= self.cap:
            return 400
        held = self.held(attendee)
        before = held.get(proposal, 0)
        if dots == before:
            return 200
        if sum(held.values()) - before + dots > self.budget:
            return 409
        if dots > before and (self.status[proposal] != PUBLISHED or proposal in self.done):
            return 409
        return 200

    def start_round(self, ending_round: int, scheduled: set[int]) -> None:
        """The ending round keeps its counts; its sessions leave play; budgets start fresh."""
        self.ended[ending_round] = {p: c for p, c in self.counts().items() if c["dots"]}
        self.done |= scheduled
        self.votes.clear()
        self.flag_open = False
        self.deadline_passed = False

    def set_dots(self, attendee: int, proposal: int, dots: int) -> None:
        if dots:
            self.votes[(attendee, proposal)] = dots
        else:
            self.votes.pop((attendee, proposal), None)

    def refund(self, proposal: int) -> int:
        """Every dot on the proposal goes back to its voter; how many ledger rows that makes."""
        refunded = [key for key in self.votes if key[1] == proposal]
        for key in refunded:
            del self.votes[key]
        return len(refunded)

    def merge(self, source: int, target: int) -> None:
        for (a, p), dots in list(self.votes.items()):
            if p == source:
                del self.votes[(a, p)]
                self.votes[(a, target)] = min(self.cap, self.votes.get((a, target), 0) + dots)
        self.status[source] = "merged"


@dataclass
class Person:
    """An attendee as the tests see them: a client with a token, or signed out."""

    pk: int
    token: str | None
    badge: str | None = None


class LoopThread:
    """One event loop in a thread of its own, serving the ASGI application's vote path."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.run(loop_db.close())
        self.run(close_sync_thread_connections())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class App:
    """The application under test, spoken to through its API as phones and consoles do."""

    def __init__(self, event: Event, organizer_token: str, loop: LoopThread | None):
        self.event = event
        self.base = f"/api/events/{event.slug}"
        self.organizer = APIClient()
        self.organizer.credentials(HTTP_AUTHORIZATION=f"Token {organizer_token}")
        self.loop = loop

    def client(self, token: str | None) -> APIClient:
        client = APIClient()
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Attendee {token}")
        return client

    def vote(self, token: str | None, proposal: int, dots: int, *, on_loop: bool) -> tuple[int, dict]:
        """PUT (or DELETE for 0 on the DRF path) of the vote; (status, body)."""
        if on_loop and self.loop is not None:
            headers = [(b"content-type", b"application/json")]
            if token:
                headers.append((b"authorization", f"Attendee {token}".encode()))
            body = json.dumps({"dots": dots}).encode()
            answer = self.loop.run(call("PUT", f"{self.base}/votes/{proposal}", body, headers))
            return answer["status"], json.loads(answer["body"])
        client = self.client(token)
        if dots == 0:
            response = client.delete(f"{self.base}/votes/{proposal}")
        else:
            response = client.put(f"{self.base}/votes/{proposal}", {"dots": dots}, format="json")
        return response.status_code, response.json()

    def patch_event(self, changes: dict) -> int:
        return self.organizer.patch(self.base, changes, format="json").status_code

    def results(self, round_id: int | None = None) -> dict[int, dict[str, int]]:
        query = f"?round={round_id}" if round_id else ""
        rows = self.organizer.get(f"{self.base}/results{query}").json()
        return {row["id"]: {"dots": row["dots"], "voters": row["voters"]} for row in rows}

    def console(self) -> dict[int, dict]:
        """The organizer's list of every proposal, as the console reads it."""
        rows = self.organizer.get(f"{self.base}/proposals?order=top").json()
        return {row["id"]: row for row in rows}

    def me(self, token: str) -> dict:
        return self.client(token).get(f"{self.base}/me").json()

    def live_tally(self) -> dict[int, dict[str, int]]:
        message = messages.build_message(self.event.pk, messages.TALLY)
        counts = json.loads(message["organizers"])["counts"]
        return {int(pk): value for pk, value in counts.items()}


def ledger_replay(event: Event, round_id: int) -> dict[int, dict[str, int]]:
    return vote_services.replay_ledger(
        LedgerEntry.objects.filter(event=event, round_id=round_id).order_by("id")
    )


def nonzero(counts: dict) -> dict:
    return {p: c for p, c in counts.items() if c["dots"]}


def vote_rows(event: Event) -> dict[tuple[int, int], int]:
    return {(v.attendee_id, v.proposal_id): v.dots for v in Vote.objects.filter(event=event)}


def check_invariants(app: App, model: Model, people: list[Person]) -> None:
    """Everything the product shows agrees with the model, exactly."""
    event = app.event
    expected = model.counts()
    assert app.results() == expected, "results"
    assert app.live_tally() == expected, "live tally"
    console = app.console()
    for pk, status in model.status.items():
        assert console[pk]["status"] == status, f"console status of {pk}"
        assert {k: console[pk][k] for k in ("dots", "voters")} == expected.get(
            pk, {"dots": 0, "voters": 0}
        ), f"console counts of {pk}"
    current_round = Event.objects.values_list("current_round", flat=True).get(pk=event.pk)
    assert nonzero(ledger_replay(event, current_round)) == nonzero(expected), "ledger replay"
    for round_id, counts in model.ended.items():  # ended rounds keep their results, exactly
        assert nonzero(app.results(round_id)) == counts, f"results of round {round_id}"
        assert nonzero(ledger_replay(event, round_id)) == counts, f"ledger replay of round {round_id}"
    rows = vote_rows(event)
    assert rows == {(people[a].pk, p): d for (a, p), d in model.votes.items()}, "vote rows"
    stored = {p.pk: (p.status, p.dots, p.voters) for p in Proposal.objects.filter(event=event)}
    for pk, status in model.status.items():
        counts = expected.get(pk, {"dots": 0, "voters": 0})
        assert stored[pk] == (status, counts["dots"], counts["voters"]), f"stored counters of {pk}"
    for index, person in enumerate(people):
        held = model.held(index)
        assert sum(held.values()) <= model.budget and all(d <= model.cap for d in held.values())
        if person.token:
            me = app.me(person.token)
            assert me["votes"] == {str(p): d for p, d in held.items()}, f"/me of attendee {index}"
            assert me["remaining"] == me["budget"] - sum(held.values()) == model.budget - sum(held.values())
