"""Counts cannot drift: a stateful property-based proof over random sequences of operations.

Hypothesis drives the real application through join, propose, vote and unvote (on both vote
paths), edit, hide, send to pending, publish, withdraw, merge, close, reopen, the deadline
passing, badge revoke and reissue, rule changes, and scheduling a session then starting a new
round; after every single step results (of every round), the live tally, the console, every
attendee's `/me`, the vote rows, the ledger's replay per round and the ended rounds' schedules
must agree with the reference model (tests/counts_model.py), and every answer must be the one
the contract gives. CI runs the `ci` profile; `HYPOTHESIS_PROFILE=long` runs thousands of
sequences. The same machine runs on the embedded SQLite default (last test).
"""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests import factories
from tests.counts_model import App, LoopThread, Model, Person, check_invariants
from voting.feed import broadcast
from voting.models import Event, LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
MAX_PEOPLE = 4
MAX_PROPOSALS = 5


class CountingMachine(RuleBasedStateMachine):
    """One event per example; the model says what every answer and every count must be."""

    loop: LoopThread | None = None  # set by the test: the event loop of the loop vote path

    @initialize(
        badge_mode=st.booleans(),
        budget=st.integers(1, 4),
        cap=st.integers(1, 3),
        seed_proposals=st.integers(1, 3),
    )
    def open_event(self, badge_mode, budget, cap, seed_proposals):
        organizer = factories.make_organizer()
        event = factories.make_event(
            organizer,
            identity_mode="badge" if badge_mode else "open",
            votes_per_attendee=budget,
            max_dots_per_proposal=cap,
        )
        token = factories.organizer_client(organizer)._credentials["HTTP_AUTHORIZATION"].split()[1]
        self.app = App(event, token, self.loop)
        self.model = Model(budget=budget, cap=cap)
        self.people: list[Person] = []
        self.spare_badges: list[tuple[int | None, str]] = []  # (person index or None, code)
        for proposal in factories.make_proposals(event, seed_proposals):
            self.model.status[proposal.pk] = "published"
            self.model.author[proposal.pk] = None
        for _ in range(2):  # a hall is never empty: votes can start at the first step
            self.join()
        self.room: int | None = None
        self.ended_schedules: dict[int, list[dict]] = {}  # round id -> its sessions as it ended

    # --- attendees -------------------------------------------------------------------------

    @precondition(lambda self: len(self.people) < MAX_PEOPLE)
    @rule()
    def join(self):
        app = self.app
        if app.event.identity_mode == "badge":
            [badge] = app.organizer.post(f"{app.base}/badges", {"count": 1}, format="json").json()
            self.spare_badges.append((None, badge["code"]))
            return self.redeem(0)
        response = app.client(None).post(f"{app.base}/join", {"code": app.event.join_code}, format="json")
        assert response.status_code == 201
        self.people.append(Person(self._attendee_pk(response), response.json()["token"]))

    def _attendee_pk(self, response) -> int:
        from voting.models import Attendee

        return Attendee.objects.get(public_id=response.json()["attendee"]["id"]).pk

    @precondition(lambda self: self.spare_badges)
    @rule(which=st.integers(0, 10))
    def redeem(self, which):
        """A badge is redeemed: a new attendee, or an existing one after a reissue."""
        index, code = self.spare_badges.pop(which % len(self.spare_badges))
        response = self.app.client(None).post(f"{self.app.base}/join", {"code": code}, format="json")
        assert response.status_code == 201
        if index is None:
            self.people.append(Person(self._attendee_pk(response), response.json()["token"], badge=code))
        else:
            self.people[index].token = response.json()["token"]
            self.people[index].badge = code

    @precondition(lambda self: any(p.badge for p in self.people))
    @rule(which=st.integers(0, 10), reissue=st.booleans())
    def revoke_badge(self, which, reissue):
        holders = [i for i, p in enumerate(self.people) if p.badge]
        index = holders[which % len(holders)]
        person = self.people[index]
        action = "reissue" if reissue else "revoke"
        response = self.app.organizer.post(f"{self.app.base}/badges/{person.badge}/{action}")
        assert response.status_code == (201 if reissue else 200)
        person.token = None  # the device that held it is signed out; the votes stay
        person.badge = None
        if reissue:
            self.spare_badges.append((index, response.json()["code"]))

    @precondition(lambda self: self.people and len(self.model.status) < MAX_PROPOSALS + 3)
    @rule(who=st.integers(0, MAX_PEOPLE - 1))
    def propose(self, who):
        index = who % len(self.people)
        person = self.people[index]
        client = self.app.client(person.token)
        response = client.post(f"{self.app.base}/proposals", {"title": f"Session by {index}"}, format="json")
        if person.token is None:
            assert response.status_code == 401
            return
        own = [p for p, a in self.model.author.items() if a == index and self.model.status[p] != "withdrawn"]
        if len(own) >= 5:
            assert response.status_code == 409
            return
        assert response.status_code == 201, response.json()
        self.model.status[response.json()["id"]] = "published"
        self.model.author[response.json()["id"]] = index

    # --- votes -----------------------------------------------------------------------------

    @precondition(lambda self: self.people)
    @rule(
        who=st.integers(0, MAX_PEOPLE - 1),
        which=st.integers(0, 20),
        dots=st.integers(0, 4),
        on_loop=st.booleans(),
    )
    def vote(self, who, which, dots, on_loop):
        index = who % len(self.people)
        person = self.people[index]
        proposal = sorted(self.model.status)[which % len(self.model.status)]
        dots = min(dots, self.model.cap + 1)
        status, body = self.app.vote(person.token, proposal, dots, on_loop=on_loop)
        expected = 401 if person.token is None else self.model.vote_outcome(index, proposal, dots)
        assert status == expected, (status, body)
        if status == 200:
            self.model.set_dots(index, proposal, dots)
            assert body["votes"] == {str(p): d for p, d in self.model.held(index).items()}

    # Votes are most of what a hall does: the same rule twice more, so that sequences are
    # mostly votes with the organizers' actions in between.
    vote_again = vote
    vote_once_more = vote

    # --- proposals -------------------------------------------------------------------------

    def _proposal(self, which: int) -> int:
        return sorted(self.model.status)[which % len(self.model.status)]

    @rule(which=st.integers(0, 20), by_author=st.booleans())
    def edit(self, which, by_author):
        proposal = self._proposal(which)
        author = self.model.author[proposal]
        if by_author and author is not None and self.people[author].token:
            client = self.app.client(self.people[author].token)
            response = client.patch(
                f"{self.app.base}/proposals/{proposal}", {"title": "Edited"}, format="json"
            )
            closed = self.model.status[proposal] in ("withdrawn", "merged")
            assert response.status_code == (409 if closed else 200)
        else:
            response = self.app.organizer.patch(
                f"{self.app.base}/proposals/{proposal}", {"description": "Edited"}, format="json"
            )
            assert response.status_code == 200

    @rule(which=st.integers(0, 20), status=st.sampled_from(["hidden", "pending", "published", "withdrawn"]))
    def set_status(self, which, status):
        """An organizer hides, sends back to pending, publishes or withdraws a proposal."""
        proposal = self._proposal(which)
        ledger_before = LedgerEntry.objects.filter(event=self.app.event).count()
        response = self.app.organizer.patch(
            f"{self.app.base}/proposals/{proposal}", {"status": status}, format="json"
        )
        current = self.model.status[proposal]
        if current == "merged":
            assert response.status_code == 409
            return
        assert response.status_code == 200, response.json()
        refunded = 0
        if current == "published" and status != "published":
            refunded = self.model.refund(proposal)
        self.model.status[proposal] = status
        new_rows = LedgerEntry.objects.filter(event=self.app.event).order_by("id")[ledger_before:]
        assert [(r.proposal_id, r.dots_after, r.cause) for r in new_rows] == [
            (proposal, 0, status)
        ] * refunded

    @rule(which=st.integers(0, 20), by_author=st.booleans())
    def withdraw(self, which, by_author):
        proposal = self._proposal(which)
        author = self.model.author[proposal]
        if by_author and author is not None and self.people[author].token:
            client = self.app.client(self.people[author].token)
        else:
            client = self.app.organizer
        response = client.delete(f"{self.app.base}/proposals/{proposal}")
        assert response.status_code == 200
        if self.model.status[proposal] not in ("withdrawn", "merged"):
            if self.model.status[proposal] == "published":
                self.model.refund(proposal)
            self.model.status[proposal] = "withdrawn"

    @precondition(lambda self: len(self.model.status) >= 2)
    @rule(which=st.integers(0, 20), into=st.integers(0, 20))
    def merge(self, which, into):
        source, target = self._proposal(which), self._proposal(into)
        response = self.app.organizer.post(
            f"{self.app.base}/proposals/{source}/merge", {"into": target}, format="json"
        )
        allowed = (
            source != target
            and self.model.status[source] != "merged"
            and self.model.status[target] == "published"
            and not {source, target} & self.model.done
        )
        assert response.status_code == (200 if allowed else 409), response.json()
        if allowed:
            self.model.merge(source, target)

    # --- the event -------------------------------------------------------------------------

    @rule(open_=st.booleans())
    def open_or_close(self, open_):
        assert self.app.patch_event({"voting_open": open_}) == 200
        self.model.flag_open = open_
        if open_:
            self.model.deadline_passed = False  # reopening clears a deadline that has passed

    @precondition(lambda self: self.model.voting_open)
    @rule()
    def deadline_passes(self):
        """The clock moves past a deadline set earlier (as if time went by)."""
        Event.objects.filter(pk=self.app.event.pk).update(
            voting_closes_at=timezone.now() - timedelta(seconds=1)
        )
        self.model.deadline_passed = True

    @rule(budget=st.integers(1, 4), cap=st.integers(1, 3), which=st.sampled_from(["budget", "cap"]))
    def change_rules(self, budget, cap, which):
        field, value, current = (
            ("votes_per_attendee", budget, self.model.budget)
            if which == "budget"
            else ("max_dots_per_proposal", cap, self.model.cap)
        )
        status = self.app.patch_event({field: value})
        if self.model.votes and value != current:
            assert status == 409
            return
        assert status == 200
        if which == "budget":
            self.model.budget = value
        else:
            self.model.cap = value

    # --- rounds ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.model.ended) < 2)
    @rule(which=st.integers(0, 20), publish=st.booleans())
    def schedule_then_start_a_round(self, which, publish):
        """Organizers place a session in a slot of this round (maybe publish), then start the
        next round."""
        org, base = self.app.organizer, self.app.base
        if self.room is None:
            self.room = org.post(f"{base}/rooms", {"name": "Hall", "capacity": 50}, format="json").json()[
                "id"
            ]
        starts = timezone.now() + timedelta(days=1, hours=2 * len(self.model.ended))
        slot = org.post(
            f"{base}/slots",
            {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()},
            format="json",
        ).json()["id"]
        proposal = self._proposal(which)
        placeable = self.model.status[proposal] == "published" and proposal not in self.model.done
        placed = org.patch(
            f"{base}/schedule/sessions/{proposal}", {"room": self.room, "slot": slot}, format="json"
        )
        published = self.model.status[proposal] == "published"
        assert placed.status_code == (200 if placeable else 409 if published else 404), placed.json()
        if publish and placeable:
            assert org.post(f"{base}/schedule/publish").status_code == 200
        ending = Event.objects.values_list("current_round", flat=True).get(pk=self.app.event.pk)
        schedule = org.get(f"{base}/schedule").json()
        [mine] = [r for r in schedule["rounds"] if r["id"] == ending]
        created = org.post(f"{base}/rounds", {"name": "Next"}, format="json")
        assert created.status_code == 201
        started = org.post(f"{base}/rounds/{created.json()['id']}/start")
        assert started.status_code == 200, started.json()
        self.model.start_round(ending, {proposal} if placeable else set())
        self.ended_schedules[ending] = mine["sessions"]
        event = org.get(base).json()
        assert (event["current_round"], event["voting_open"], event["accepting_proposals"]) == (
            created.json()["id"],
            False,
            True,
        )

    @invariant()
    def everything_agrees(self):
        if hasattr(self, "app"):
            check_invariants(self.app, self.model, self.people)
            self.earlier_schedules_stay()

    def earlier_schedules_stay(self):
        """An ended round's schedule is as it was, but for proposals organizers took down."""
        if not self.ended_schedules:
            return
        rounds = {r["id"]: r for r in self.app.organizer.get(f"{self.app.base}/schedule").json()["rounds"]}
        for round_id, sessions in self.ended_schedules.items():
            still = [s for s in sessions if self.model.status[s["proposal"]] == "published"]
            assert rounds[round_id]["sessions"] == still, f"schedule of round {round_id}"


hypothesis_settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("UNCONF_PROPERTY_EXAMPLES", 20)),
    stateful_step_count=30,
    deadline=None,
)
hypothesis_settings.register_profile(
    "long",
    max_examples=int(os.environ.get("UNCONF_PROPERTY_EXAMPLES", 2000)),
    stateful_step_count=40,
    deadline=None,
)


@pytest.fixture
def quiet_broadcasts(monkeypatch):
    # Changes mark the feed's hubs; this test builds the live tally itself after every step.
    monkeypatch.setattr(broadcast, "_mark", lambda *args, **kwargs: None)


@pytest.fixture
def generous_limits(settings):
    settings.UNCONF_JOIN_RATE = settings.UNCONF_BAD_CODE_RATE = 10**6


def test_counts_agree_whatever_the_sequence(quiet_broadcasts, generous_limits):
    from hypothesis.stateful import run_state_machine_as_test

    profile = hypothesis_settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    CountingMachine.loop = LoopThread() if connection.vendor == "postgresql" else None
    try:
        run_state_machine_as_test(CountingMachine, settings=hypothesis_settings(profile, database=None))
    finally:
        if CountingMachine.loop is not None:
            CountingMachine.loop.close()


@pytest.mark.skipif(os.environ.get("UNCONF_INVARIANT_ON_SQLITE") == "1", reason="this is the SQLite run")
def test_counts_agree_on_the_embedded_sqlite_default_too(tmp_path):
    """The same machine on SQLite (the vote by the ORM), in a process of its own."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "UNCONF_INVARIANT_ON_SQLITE": "1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_counts_agree_whatever_the_sequence",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout
