"""Counts cannot drift when everything arrives at once: the concurrent variant of the proof.

Hypothesis draws, per attendee, a list of votes (each on the event-loop path or DRF's), and
for the organizers a list of hides, publishes, merges, closes and reopens; one thread each runs
its list at the same moment, while a stage is subscribed to the live feed. Afterwards:
- the counts everywhere equal the vote rows and the ledger's replay; budgets and caps hold;
  no dot is on an unpublished proposal;
- nothing acknowledged is lost: every `200` answer's state is a state that attendee's ledger
  rows passed through (their rows are serialised by the attendee's lock, so id order is
  commit order), and the last of them replays to what is stored;
- every live message the stage received, in version order, shows counts that the ledger
  passed through (each attendee at some point of their own history), versions only rise,
  and the last message shows what is stored.
"""

import itertools
import os
import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests import factories
from tests.counts_model import App, LoopThread
from tests.feed_support import Subscriber
from voting.models import Attendee, LedgerEntry, Proposal, ProposalStatus, Vote
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE, PROPOSALS, BUDGET, CAP = 4, 3, 3, 2
EXAMPLES = int(os.environ.get("UNCONF_CONCURRENT_EXAMPLES", 6))

votes = st.lists(st.tuples(st.integers(0, PROPOSALS - 1), st.integers(0, CAP), st.booleans()), max_size=12)
organizer_actions = st.lists(
    st.one_of(
        st.tuples(st.just("status"), st.integers(0, PROPOSALS - 1), st.sampled_from(["hidden", "published"])),
        st.tuples(st.just("merge"), st.integers(0, PROPOSALS - 1), st.integers(0, PROPOSALS - 1)),
        st.tuples(st.just("voting"), st.booleans(), st.just(0)),
    ),
    max_size=4,
)


@pytest.fixture(scope="module")
def loop():
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture
def generous_limits(settings):
    settings.UNCONF_JOIN_RATE = settings.UNCONF_BAD_CODE_RATE = 10**6


def per_attendee_histories(event) -> dict[int, list[dict[int, int]]]:
    """Each attendee's states, in the order their ledger rows committed: [{proposal: dots}, …]."""
    histories: dict[int, list[dict[int, int]]] = {}
    current: dict[int, dict[int, int]] = {}
    for row in LedgerEntry.objects.filter(event=event).order_by("id"):
        state = dict(current.get(row.attendee_id, {}))
        if row.dots_after:
            state[row.proposal_id] = row.dots_after
        else:
            state.pop(row.proposal_id, None)
        current[row.attendee_id] = state
        histories.setdefault(row.attendee_id, [{}]).append(state)
    return histories


def contribution(state: dict[int, int]) -> tuple:
    return tuple(sorted((p, d) for p, d in state.items()))


def reachable(counts: dict[str, dict[str, int]], histories: dict[int, list[dict]]) -> bool:
    """Whether some point of each attendee's history adds up to these counts exactly."""
    target = {int(p): (c["dots"], c["voters"]) for p, c in counts.items() if c["dots"]}
    sums = {(): None}  # partial totals as sorted ((proposal, (dots, voters)), …)
    for history in histories.values():
        grown = {}
        for total in sums:
            for state in {contribution(s) for s in history}:
                merged = dict(total)
                for p, d in state:
                    dots, voters = merged.get(p, (0, 0))
                    merged[p] = (dots + d, voters + 1)
                if all(
                    p in target and v[0] <= target[p][0] and v[1] <= target[p][1] for p, v in merged.items()
                ):
                    grown[tuple(sorted(merged.items()))] = None
        sums = grown
    return tuple(sorted(target.items())) in sums


@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(plans=st.lists(votes, min_size=PEOPLE, max_size=PEOPLE), organizer_plan=organizer_actions)
def test_counts_hold_whatever_arrives_at_once(loop, generous_limits, plans, organizer_plan):
    organizer = factories.make_organizer()
    event = factories.make_event(organizer, votes_per_attendee=BUDGET, max_dots_per_proposal=CAP)
    proposals = [p.pk for p in factories.make_proposals(event, PROPOSALS)]
    people = [factories.join(event) for _ in range(PEOPLE)]
    token = factories.organizer_client(organizer)._credentials["HTTP_AUTHORIZATION"].split()[1]
    app = App(event, token, loop)
    stage = Subscriber(event.slug)
    assert loop.run(stage.connect())[0]
    loop.run(stage.receive())
    acknowledged: list[tuple[int, dict]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(PEOPLE + 1)

    def attendee(index: int):
        attendee_row, _, attendee_token = people[index]
        start.wait()
        try:
            for which, dots, on_loop in plans[index]:
                status, body = app.vote(attendee_token, proposals[which], dots, on_loop=on_loop)
                assert status in (200, 409), body
                if status == 200:
                    acknowledged.append((attendee_row.pk, {int(p): d for p, d in body["votes"].items()}))
        except BaseException as failure:  # a thread's assertion must fail the test
            failures.append(failure)
        finally:
            connection.close()

    def organizers():
        start.wait()
        try:
            for action, first, second in organizer_plan:
                base = app.base
                if action == "status":
                    app.organizer.patch(
                        f"{base}/proposals/{proposals[first]}", {"status": second}, format="json"
                    )
                elif action == "merge":
                    into = {"into": proposals[second]}
                    app.organizer.post(f"{base}/proposals/{proposals[first]}/merge", into, format="json")
                else:
                    app.patch_event({"voting_open": first})
        except BaseException as failure:
            failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=attendee, args=(i,)) for i in range(PEOPLE)]
    threads.append(threading.Thread(target=organizers))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    loop.run(stage.quiet(1.5))
    loop.run(stage.close())
    assert failures == []

    stored = {p.pk: p for p in Proposal.objects.filter(event=event)}
    rows = Vote.objects.filter(event=event)
    assert vote_services.replay_ledger(LedgerEntry.objects.filter(event=event).order_by("id")) == {
        pk: {"dots": p.dots, "voters": p.voters} for pk, p in stored.items() if p.dots
    }
    assert Vote.objects.filter(event=event).recount() == {
        pk: {"dots": p.dots, "voters": p.voters} for pk, p in stored.items() if p.dots
    }
    assert all(p.dots == 0 for p in stored.values() if p.status != ProposalStatus.PUBLISHED)
    for attendee_row in Attendee.objects.filter(event=event):
        held = {v.proposal_id: v.dots for v in rows if v.attendee_id == attendee_row.pk}
        assert sum(held.values()) <= BUDGET and all(d <= CAP for d in held.values())

    histories = per_attendee_histories(event)
    for attendee_pk, state in acknowledged:
        assert state in histories.get(attendee_pk, [{}]), "an acknowledged vote is not in the ledger"

    messages = [m for m in stage.messages if m["type"] in ("tally", "snapshot")]
    versions = [m["version"] for m in messages]
    assert versions == sorted(versions), "versions went backwards"
    for message in messages:
        assert reachable(counts_shown(message), histories), (
            f"version {message['version']} shows a state the ledger never had"
        )
    for earlier, later in itertools.pairwise(messages):
        if earlier["version"] == later["version"]:
            assert counts_shown(earlier) == counts_shown(later)
    published = {pk: p for pk, p in stored.items() if p.status == ProposalStatus.PUBLISHED}
    assert counts_shown(messages[-1]) == {
        str(pk): {"dots": p.dots, "voters": p.voters} for pk, p in published.items()
    }


def counts_shown(message: dict) -> dict[str, dict[str, int]]:
    """Per published proposal, the counts a tally or a snapshot shows."""
    if "counts" in message:
        return message["counts"]
    return {str(p["id"]): {"dots": p["dots"], "voters": p["voters"]} for p in message["proposals"]}
