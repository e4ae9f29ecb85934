"""Dot voting that never miscounts, whatever arrives at once (real PostgreSQL, real threads)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests import factories
from voting.core.errors import UnconfError
from voting.events import services as event_services
from voting.models import Event, LedgerEntry, Proposal, ProposalStatus, Vote
from voting.proposals import services as proposal_services
from voting.votes import services as vote_services

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(calls):
    """Run the callables in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def put_dots(token: str, slug: str, proposal_id: int, dots: int):
    def call():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Attendee {token}")
        response = client.put(f"/api/events/{slug}/votes/{proposal_id}", {"dots": dots}, format="json")
        return response.status_code, response.json()

    return call


def recount(event) -> dict:
    return {pk: (c["dots"], c["voters"]) for pk, c in Vote.objects.filter(event=event).recount().items()}


def counters(event) -> dict:
    return {p.pk: (p.dots, p.voters) for p in Proposal.objects.filter(event=event) if p.dots}


def test_fifty_identical_puts_store_one_vote_row_with_the_right_dots():
    event = factories.make_event(max_dots_per_proposal=3)
    [proposal] = factories.make_proposals(event, 1)
    attendee, _, token = factories.join(event)

    results = run_at_once([put_dots(token, event.slug, proposal.pk, 2)] * 50)

    assert [status for status, _ in results] == [200] * 50
    assert list(Vote.objects.filter(attendee=attendee).values_list("proposal_id", "dots")) == [
        (proposal.pk, 2)
    ]
    assert counters(event) == {proposal.pk: (2, 1)}
    assert LedgerEntry.objects.filter(attendee=attendee).count() == 1


def test_budget_holds_when_fifty_different_puts_arrive_at_once_round_after_round():
    event = factories.make_event(votes_per_attendee=5)
    proposals = factories.make_proposals(event, 50)

    for _ in range(4):
        attendee, _, token = factories.join(event)
        results = run_at_once([put_dots(token, event.slug, p.pk, 1) for p in proposals])

        statuses = sorted(status for status, _ in results)
        assert statuses == [200] * 5 + [409] * 45
        refused = [body for status, body in results if status == 409]
        assert {body["code"] for body in refused} == {"budget_exhausted"}
        assert sum(Vote.objects.filter(attendee=attendee).values_list("dots", flat=True)) == 5
    assert counters(event) == recount(event)


def test_closing_voting_while_votes_are_in_flight_counts_every_200_and_nothing_else(org_client, organizer):
    event = factories.make_event(organizer, votes_per_attendee=1)
    [proposal] = factories.make_proposals(event, 1)
    voters = [factories.join(event) for _ in range(40)]

    def close():
        return org_client.patch(
            f"/api/events/{event.slug}", {"voting_open": False}, format="json"
        ).status_code, {}

    calls = [put_dots(token, event.slug, proposal.pk, 1) for _, _, token in voters]
    calls.insert(20, close)
    results = run_at_once(calls)

    accepted = {
        attendee.pk
        for (attendee, _, _), (status, _) in zip(voters, results[:20] + results[21:], strict=True)
        if status == 200
    }
    refused = [body["code"] for status, body in results if status == 409]
    assert results[20][0] == 200
    assert set(refused) <= {"voting_closed"}
    assert len(accepted) + len(refused) == 40
    assert set(Vote.objects.filter(proposal=proposal).values_list("attendee_id", flat=True)) == accepted
    proposal.refresh_from_db()
    assert (proposal.dots, proposal.voters) == (len(accepted), len(accepted))


def test_set_dots_is_idempotent_and_sets_rather_than_adds(event):
    [proposal] = factories.make_proposals(event, 1)
    event_services.update_event(event=event, changes={"voting_open": False})
    event_services.update_event(event=event, changes={"max_dots_per_proposal": 3, "voting_open": True})
    attendee, client, _ = factories.join(event)
    url = f"/api/events/{event.slug}/votes/{proposal.pk}"

    first = client.put(url, {"dots": 3}, format="json")
    again = client.put(url, {"dots": 3}, format="json")
    lower = client.put(url, {"dots": 1}, format="json")

    assert first.json()["votes"] == {str(proposal.pk): 3}
    assert again.json()["remaining"] == 2
    assert lower.json()["votes"] == {str(proposal.pk): 1}
    assert lower.json()["remaining"] == 4
    assert list(LedgerEntry.objects.filter(attendee=attendee).values_list("dots_before", "dots_after")) == [
        (0, 3),
        (3, 1),
    ]


def test_delete_takes_all_dots_back(event):
    [proposal] = factories.make_proposals(event, 1)
    _, client, _ = factories.join(event)
    client.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

    response = client.delete(f"/api/events/{event.slug}/votes/{proposal.pk}")

    assert response.status_code == 200
    assert response.json()["votes"] == {}
    assert response.json()["remaining"] == 5
    assert counters(event) == {}


def test_dots_above_the_per_proposal_cap_are_refused(event):
    [proposal] = factories.make_proposals(event, 1)
    _, client, _ = factories.join(event)

    response = client.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 2}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_dots"
    assert Vote.objects.count() == 0


def test_votes_after_the_deadline_are_refused_and_the_event_reads_as_closed_without_a_write(event):
    from datetime import timedelta

    from django.utils import timezone

    [proposal] = factories.make_proposals(event, 1)
    _, client, _ = factories.join(event)
    event.voting_closes_at = timezone.now() - timedelta(seconds=1)
    event.save()

    revision = Event.objects.get(pk=event.pk).revision

    vote = client.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")
    state = client.get(f"/api/events/{event.slug}")
    results = client.get(f"/api/events/{event.slug}/results")

    assert vote.status_code == 409
    assert vote.json()["code"] == "voting_closed"
    assert state.json()["voting_open"] is False
    assert results.status_code == 200
    # The deadline is derived state: reading it changed nothing in the database.
    assert Event.objects.get(pk=event.pk).revision == revision


def test_rules_lock_once_a_dot_is_cast(event, org_client):
    [proposal] = factories.make_proposals(event, 1)
    _, client, _ = factories.join(event)
    before = org_client.patch(f"/api/events/{event.slug}", {"votes_per_attendee": 6}, format="json")
    client.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

    after = org_client.patch(f"/api/events/{event.slug}", {"votes_per_attendee": 3}, format="json")
    cap = org_client.patch(f"/api/events/{event.slug}", {"max_dots_per_proposal": 2}, format="json")
    name = org_client.patch(f"/api/events/{event.slug}", {"name": "Renamed"}, format="json")

    assert before.status_code == 200
    assert (after.status_code, after.json()["code"]) == (409, "rules_locked")
    assert (cap.status_code, cap.json()["code"]) == (409, "rules_locked")
    assert name.status_code == 200
    event.refresh_from_db()
    assert (event.votes_per_attendee, event.max_dots_per_proposal) == (6, 1)


def test_merge_moves_dots_without_counting_anyone_twice_and_refunds_the_surplus(organizer, org_client):
    event = factories.make_event(organizer, max_dots_per_proposal=2, votes_per_attendee=10)
    source, target, other = factories.make_proposals(event, 3)
    both = [factories.join(event) for _ in range(3)]  # dots on source and target
    only_source = [factories.join(event) for _ in range(2)]
    only_target = [factories.join(event) for _ in range(1)]
    for attendee, _, _ in both:
        vote_services.set_dots(attendee=attendee, proposal_id=source.pk, dots=2)
        vote_services.set_dots(attendee=attendee, proposal_id=target.pk, dots=1)
        vote_services.set_dots(attendee=attendee, proposal_id=other.pk, dots=1)
    for attendee, _, _ in only_source:
        vote_services.set_dots(attendee=attendee, proposal_id=source.pk, dots=1)
    for attendee, _, _ in only_target:
        vote_services.set_dots(attendee=attendee, proposal_id=target.pk, dots=2)
    url = f"/api/events/{event.slug}/proposals/{source.pk}/merge"

    preview = org_client.get(url, {"into": target.pk})
    merged = org_client.post(url, {"into": target.pk}, format="json")

    assert preview.json() == {"voters_moved": 2, "voters_shared": 3, "dots_moved": 5, "dots_refunded": 3}
    assert merged.status_code == 200
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("merged", target.pk)
    # target: 3 shared voters capped at 2 dots, 2 source-only voters with 1, 1 target-only with 2
    assert counters(event) == {target.pk: (3 * 2 + 2 * 1 + 2, 6), other.pk: (3, 3)}
    assert counters(event) == recount(event)
    for _, client, _ in both:
        assert client.get(f"/api/events/{event.slug}/me").json()["remaining"] == 10 - 2 - 1
    ledger = LedgerEntry.objects.filter(event=event).order_by("id")
    assert vote_services.replay_ledger(ledger) == {
        pk: {"dots": dots, "voters": voters} for pk, (dots, voters) in recount(event).items()
    }


def test_withdrawing_a_proposal_refunds_every_dot_on_it(event):
    author, author_client, _ = factories.join(event)
    proposal = proposal_services.submit_proposal(event=event, author=author, title="Withdraw me")
    voter, voter_client, _ = factories.join(event)
    vote_services.set_dots(attendee=voter, proposal_id=proposal.pk, dots=1)

    response = author_client.delete(f"/api/events/{event.slug}/proposals/{proposal.pk}")

    assert response.json()["status"] == "withdrawn"
    assert voter_client.get(f"/api/events/{event.slug}/me").json()["remaining"] == 5
    assert list(
        LedgerEntry.objects.filter(proposal=proposal).values_list("dots_before", "dots_after", "cause")
    ) == [(0, 1, "vote"), (1, 0, "withdrawn")]


def test_votes_on_unknown_or_closed_proposals_are_refused_but_dots_can_be_taken_back(event, org_client):
    published, pending = factories.make_proposals(event, 2)
    attendee, client, _ = factories.join(event)
    org_client.patch(f"/api/events/{event.slug}/proposals/{pending.pk}", {"status": "pending"}, format="json")
    vote_services.set_dots(attendee=attendee, proposal_id=published.pk, dots=1)
    other_event_proposal = factories.make_proposals(factories.make_event(), 1)[0]

    unknown = client.put(f"/api/events/{event.slug}/votes/999999", {"dots": 1}, format="json")
    foreign = client.put(
        f"/api/events/{event.slug}/votes/{other_event_proposal.pk}", {"dots": 0}, format="json"
    )
    pending_vote = client.put(f"/api/events/{event.slug}/votes/{pending.pk}", {"dots": 1}, format="json")
    taken_back = client.delete(f"/api/events/{event.slug}/votes/{published.pk}")

    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert (pending_vote.status_code, pending_vote.json()["code"]) == (409, "conflict")
    assert taken_back.json()["votes"] == {}
    assert counters(event) == recount(event) == {}


def _play(vote, script) -> tuple[list, dict]:
    """Run (attendee, proposal, dots) steps through one vote implementation on a fresh event."""
    event = factories.make_event(votes_per_attendee=4, max_dots_per_proposal=2)
    proposals = dict(zip("abch", factories.make_proposals(event, 4), strict=True))
    Proposal.objects.filter(pk=proposals["h"].pk).update(status=ProposalStatus.HIDDEN)
    people = [factories.join(event)[0] for _ in range(2)]
    key_of = {p.pk: key for key, p in proposals.items()}
    outcomes = []
    for who, key, dots in script:
        if key == "closed":
            Event.objects.filter(pk=event.pk).update(voting_open=False)
            continue
        pid = proposals[key].pk if key in proposals else 10**9
        try:
            done = vote(attendee=people[who], proposal_id=pid, dots=dots)
            outcomes.append(("ok", done.changed, done.budget, {key_of[p]: d for p, d in done.votes.items()}))
        except UnconfError as refusal:
            outcomes.append(("refused", refusal.code, str(refusal.detail)))
    state = {
        "votes": sorted(
            (people.index(v.attendee), key_of[v.proposal_id], v.dots)
            for v in Vote.objects.filter(event=event)
        ),
        "counters": {key: Proposal.objects.get(pk=p.pk).dots for key, p in proposals.items()},
        "ledger": [
            (people.index(e.attendee), key_of[e.proposal_id], e.dots_before, e.dots_after)
            for e in LedgerEntry.objects.filter(event=event).select_related("attendee").order_by("id")
        ],
    }
    return outcomes, state


def test_the_postgres_function_and_the_portable_vote_apply_the_same_rules():
    """PostgreSQL votes through unconf_set_dots; SQLite through set_dots_portable: same answers."""
    script = [
        (0, "a", 1),  # a dot
        (0, "a", 1),  # the same again: unchanged
        (0, "b", 3),  # over the per-proposal cap
        (0, "b", 2),
        (0, "c", 2),  # over the budget (1 + 2 + 2 > 4)
        (0, "b", 1),  # fewer dots
        (0, "c", 2),  # now it fits
        (1, "h", 1),  # a hidden proposal takes no new dots
        (1, "x", 1),  # no such proposal
        (1, "x", 0),  # no such proposal, even for zero
        (1, "h", 0),  # zero on a hidden one: nothing to take back
        (1, "a", 2),
        (0, "a", 0),  # all back
        (0, "closed", 0),
        (1, "a", 1),  # voting closed
    ]
    with_function = _play(vote_services.set_dots, script)
    portable = _play(vote_services.set_dots_portable, script)

    assert connection.vendor == "postgresql"  # set_dots above went through the function
    assert with_function == portable
    outcomes, state = with_function
    assert [o[1] for o in outcomes if o[0] == "refused"] == [
        "invalid_dots",
        "budget_exhausted",
        "conflict",
        "not_found",
        "not_found",
        "voting_closed",
    ]
    assert state["votes"] == [(0, "b", 1), (0, "c", 2), (1, "a", 2)]
    assert state["counters"] == {"a": 2, "b": 1, "c": 2, "h": 0}
    assert len(state["ledger"]) == 6  # one per change, none for a refusal or a no-op
