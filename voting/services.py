"""Every write that has a rule or a side effect: join, propose, vote, merge, phase changes.

Locking rule (PostgreSQL): a vote holds the event row FOR KEY SHARE for its whole
transaction, so anything that changes what a vote may do (closing voting, merging, refunds,
rule changes) takes the event row FOR UPDATE and thereby waits for every vote in flight and
holds back every vote that arrives after it. Closing is then one point in time: a vote is
counted if and only if it committed (and was acknowledged) before the close committed.
Lock order is always event → attendee → proposal, so these transactions cannot deadlock.
Broadcasts go out after commit (broadcast.py) and can never undo a committed change.
"""

import difflib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import broadcast, hosts, snapshots
from .errors import (
    BudgetExhausted,
    Conflict,
    InvalidCode,
    NotFound,
    NotVotable,
    ProposalCap,
    ProposalsClosed,
    RulesLocked,
    UnconfError,
    VotingClosed,
)
from .models import (
    BADGE_CODE_LENGTH,
    Attendee,
    Badge,
    BadgeStatus,
    Event,
    IdentityMode,
    LedgerCause,
    LedgerEntry,
    Moderation,
    Proposal,
    ProposalStatus,
    Vote,
    hash_token,
    normalize_code,
    random_code,
)

RULE_FIELDS = ("votes_per_attendee", "max_dots_per_proposal")


class InvalidDots(UnconfError):
    code = "invalid_dots"


# --- locking helpers -------------------------------------------------------------------------


def _lock_event(event_id: int) -> Event:
    return Event.objects.select_for_update().get(pk=event_id)


def _on_commit_state_changed(event_id: int, *, me_stale: bool = False) -> None:
    transaction.on_commit(lambda: broadcast.state_changed(event_id, me_stale=me_stale), robust=True)


def _on_commit_tally_changed(event_id: int) -> None:
    transaction.on_commit(lambda: broadcast.tally_changed(event_id), robust=True)


# --- events ----------------------------------------------------------------------------------


def create_event(*, creator, **fields) -> Event:
    """A staff user who creates an event organizes it."""
    with transaction.atomic():
        event = Event.objects.create(**fields)
        event.organizers.add(creator)
    return event


def update_event(*, event: Event, changes: dict) -> Event:
    """Change settings or phase; rules lock once any dot is cast; closing waits for votes."""
    with transaction.atomic():
        locked = _lock_event(event.pk)
        rule_changes = {f for f in RULE_FIELDS if f in changes and changes[f] != getattr(locked, f)}
        if rule_changes and Vote.objects.filter(event=locked).exists():
            raise RulesLocked()
        for field, value in changes.items():
            setattr(locked, field, value)
        reopening = changes.get("voting_open") and "voting_closes_at" not in changes
        if reopening and locked.voting_closes_at and locked.voting_closes_at <= timezone.now():
            # Reopening after a deadline passed would otherwise be closed again at once.
            locked.voting_closes_at = None
        locked.save()
        _on_commit_state_changed(locked.pk)
    return locked


# --- identity --------------------------------------------------------------------------------


def _issue_token(attendee: Attendee) -> str:
    """A new bearer token for the attendee; any earlier device is signed out."""
    token = secrets.token_urlsafe(32)
    attendee.token_hash = hash_token(token)
    attendee.save(update_fields=["token_hash"])
    return token


def join_event(*, event: Event, code: str, display_name: str = "") -> tuple[Attendee, str]:
    """Join with the event code (open) or a badge code (badge). Raises InvalidCode."""
    normalized = normalize_code(code)
    display_name = (display_name or "").strip()[:80]
    if event.identity_mode == IdentityMode.OPEN:
        if not normalized or not secrets.compare_digest(normalized, normalize_code(event.join_code)):
            raise InvalidCode()
        attendee = Attendee.objects.create(event=event, display_name=display_name)
        token = _issue_token(attendee)
    else:
        with transaction.atomic():
            badge = (
                Badge.objects.select_for_update()
                .select_related("attendee")
                .filter(event=event, code=normalized)
                .exclude(status=BadgeStatus.REVOKED)
                .first()
            )
            if badge is None:
                raise InvalidCode()
            attendee = badge.attendee
            if display_name:
                attendee.display_name = display_name
                attendee.save(update_fields=["display_name"])
            token = _issue_token(attendee)  # re-redeeming moves the same attendee
            badge.status = BadgeStatus.REDEEMED
            badge.save(update_fields=["status"])
    broadcast.participation_changed(event.pk)
    return attendee, token


def attendee_for_token(*, event: Event, token: str) -> Attendee | None:
    if not token:
        return None
    return Attendee.objects.filter(event=event, token_hash=hash_token(token)).first()


def _new_badge_code() -> str:
    return random_code(BADGE_CODE_LENGTH)


def generate_badges(*, event: Event, count: int) -> list[Badge]:
    with transaction.atomic():
        attendees = Attendee.objects.bulk_create(Attendee(event=event) for _ in range(count))
        return Badge.objects.bulk_create(
            Badge(event=event, attendee=a, code=_new_badge_code()) for a in attendees
        )


def _badge(event: Event, code: str) -> Badge:
    badge = Badge.objects.select_for_update().filter(event=event, code=normalize_code(code)).first()
    if badge is None:
        raise NotFound()
    return badge


def _revoke(badge: Badge) -> None:
    """The badge stops working and the device that redeemed it is signed out (votes stay)."""
    if badge.status != BadgeStatus.REVOKED:
        badge.status = BadgeStatus.REVOKED
        badge.save(update_fields=["status"])
        Attendee.objects.filter(pk=badge.attendee_id).update(token_hash="")


def revoke_badge(*, event: Event, code: str) -> Badge:
    with transaction.atomic():
        badge = _badge(event, code)
        _revoke(badge)
    return badge


def reissue_badge(*, event: Event, code: str) -> Badge:
    """A new code for the same attendee (same votes); the old code is revoked."""
    with transaction.atomic():
        old = _badge(event, code)
        _revoke(old)
        return Badge.objects.create(event=event, attendee=old.attendee, code=_new_badge_code())


# --- proposals -------------------------------------------------------------------------------


def submit_proposal(
    *,
    event: Event,
    author: Attendee | None,
    title: str,
    description: str = "",
    host_name: str = "",
    length: int = 1,
) -> Proposal:
    """Attendees are capped per event and need proposals open; organizers (author None) are not."""
    with transaction.atomic():
        if author is not None:
            Attendee.objects.select_for_update().get(pk=author.pk)  # serialise the cap check
            if not Event.objects.filter(pk=event.pk, accepting_proposals=True).exists():
                raise ProposalsClosed()
            active = Proposal.objects.filter(author=author).exclude(status=ProposalStatus.WITHDRAWN)
            if active.count() >= settings.UNCONF_PROPOSALS_PER_ATTENDEE:
                raise ProposalCap()
        needs_approval = author is not None and event.moderation == Moderation.PRE
        proposal = Proposal.objects.create(
            event=event,
            author=author,
            title=title,
            description=description,
            host_name=host_name,
            length=length,
            status=ProposalStatus.PENDING if needs_approval else ProposalStatus.PUBLISHED,
        )
        _on_commit_state_changed(event.pk)
    return proposal


def _refund_all(event: Event, proposal: Proposal, cause: str) -> bool:
    """Give every dot on the proposal back to its owner, one ledger row each (inside a
    transaction with the event locked). The counters follow the vote rows (database trigger).
    Whether anything was refunded."""
    now = timezone.now()
    votes = list(Vote.objects.filter(proposal=proposal))
    LedgerEntry.objects.bulk_create(
        _ledger(
            event=event,
            attendee_id=v.attendee_id,
            proposal_id=proposal.pk,
            before=v.dots,
            after=0,
            cause=cause,
            now=now,
        )
        for v in votes
    )
    Vote.objects.filter(pk__in=[v.pk for v in votes]).delete()
    return bool(votes)


def edit_proposal(*, proposal: Proposal, changes: dict, by_organizer: bool) -> Proposal:
    """Authors edit text while proposals are open; organizers edit anything and set status."""
    with transaction.atomic():
        event = _lock_event(proposal.event_id)
        current = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if not by_organizer:
            if not current.event.accepting_proposals:
                raise ProposalsClosed()
            if current.status in (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED):
                raise Conflict("This proposal can no longer be edited.")
            changes = {k: v for k, v in changes.items() if k != "status"}
        new_status = changes.get("status", current.status)
        refunded = False
        if new_status != current.status:
            if current.status == ProposalStatus.MERGED or new_status == ProposalStatus.MERGED:
                raise Conflict("Use merge to merge proposals; a merged proposal stays merged.")
            if current.status == ProposalStatus.PUBLISHED:
                # Dots live only on published proposals: leaving refunds them all, so that
                # publishing again starts at zero. The cause is where the proposal went.
                refunded = _refund_all(event, current, LedgerCause(new_status))
        for field, value in changes.items():
            setattr(current, field, value)
        current.save()
        _on_commit_state_changed(current.event_id, me_stale=refunded)
    current.refresh_from_db()
    return current


def withdraw_proposal(*, proposal: Proposal, by_organizer: bool) -> Proposal:
    """Withdrawing refunds every dot on the proposal; authors may only while proposals are open."""
    if not by_organizer and not proposal.event.accepting_proposals:
        raise ProposalsClosed()
    if proposal.status in (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED):
        return proposal
    return edit_proposal(proposal=proposal, changes={"status": ProposalStatus.WITHDRAWN}, by_organizer=True)


def similar_proposals(*, event: Event, title: str, limit: int = 5) -> list[Proposal]:
    """Published proposals whose titles look like near-duplicates of `title`."""
    title = (title or "").strip()
    if len(title) < 3:
        return []
    published = Proposal.objects.published().filter(event=event)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramWordSimilarity

        return list(
            published.annotate(similarity=TrigramWordSimilarity(title, "title"))
            .filter(similarity__gte=0.4)
            .order_by("-similarity", "id")[:limit]
        )
    scored = [(difflib.SequenceMatcher(None, title.lower(), p.title.lower()).ratio(), p) for p in published]
    return [p for score, p in sorted(scored, key=lambda s: (-s[0], s[1].pk)) if score >= 0.6][:limit]


def merge_proposals(*, source: Proposal, target: Proposal) -> Proposal:
    """Move the source's dots onto the target; nobody is counted twice; the surplus is refunded."""
    if source.pk == target.pk or source.event_id != target.event_id:
        raise Conflict("A proposal can only be merged into another proposal of the same event.")
    with transaction.atomic():
        event = _lock_event(source.event_id)
        source = Proposal.objects.select_for_update().get(pk=source.pk)
        target = Proposal.objects.select_for_update().get(pk=target.pk)
        if source.status == ProposalStatus.MERGED or target.status != ProposalStatus.PUBLISHED:
            raise Conflict("Merge a proposal into a published proposal, once.")
        if source.done_in_round_id or target.done_in_round_id:
            raise Conflict("A session scheduled in an earlier round stays as it was: it cannot be merged.")
        cap = event.max_dots_per_proposal
        on_target = {v.attendee_id: v for v in Vote.objects.filter(proposal=target)}
        now = timezone.now()
        ledger = []
        for vote in Vote.objects.filter(proposal=source):
            ledger.append(
                _ledger(
                    event=event,
                    attendee_id=vote.attendee_id,
                    proposal_id=source.pk,
                    before=vote.dots,
                    after=0,
                    cause=LedgerCause.MERGE,
                    now=now,
                )
            )
            existing = on_target.get(vote.attendee_id)
            before = existing.dots if existing else 0
            after = min(cap, before + vote.dots)
            if after == before:
                continue
            ledger.append(
                _ledger(
                    event=event,
                    attendee_id=vote.attendee_id,
                    proposal_id=target.pk,
                    before=before,
                    after=after,
                    cause=LedgerCause.MERGE,
                    now=now,
                )
            )
            if existing:
                existing.dots = after
                existing.save(update_fields=["dots", "updated_at"])
            else:
                Vote.objects.create(event=event, attendee_id=vote.attendee_id, proposal=target, dots=after)
        LedgerEntry.objects.bulk_create(ledger)
        Vote.objects.filter(proposal=source).delete()  # both proposals' counters follow
        Proposal.objects.filter(pk=source.pk).update(status=ProposalStatus.MERGED, merged_into=target)
        hosts_dropped = hosts.merge_hosts(source=source, target=target)
        _on_commit_state_changed(event.pk, me_stale=True)
    source.refresh_from_db()
    source.hosts_dropped = hosts_dropped  # for the merge answer
    return source


def merge_preview(*, source: Proposal, target: Proposal) -> dict:
    """What a merge would do, for the organizer's confirmation dialog."""
    cap = source.event.max_dots_per_proposal
    on_target = dict(Vote.objects.filter(proposal=target).values_list("attendee_id", "dots"))
    moved_voters = moved_dots = refunded = shared = 0
    for attendee_id, dots in Vote.objects.filter(proposal=source).values_list("attendee_id", "dots"):
        before = on_target.get(attendee_id, 0)
        after = min(cap, before + dots)
        shared += attendee_id in on_target
        moved_voters += attendee_id not in on_target
        moved_dots += after - before
        refunded += dots - (after - before)
    return {
        "voters_moved": moved_voters,
        "voters_shared": shared,
        "dots_moved": moved_dots,
        "dots_refunded": refunded,
    }


def _ledger(
    *, event: Event, attendee_id: int, proposal_id: int, before: int, after: int, cause: str, now=None
):
    """One accepted change of someone's dots in the event's current round, as the ledger (and
    its recount) records it."""
    return LedgerEntry(
        event_id=event.pk,
        round_id=event.current_round_id,
        attendee_id=attendee_id,
        proposal_id=proposal_id,
        dots_before=before,
        dots_after=after,
        cause=cause,
        created_at=now or timezone.now(),
    )


# --- votes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DotsSet:
    """What a vote leaves behind: whether it changed anything, and the caller's own state."""

    changed: bool
    budget: int
    votes: dict[int, int]  # proposal id -> the attendee's dots on it, after the vote
    proposals: list[int]  # the attendee's own proposals (not withdrawn)


# The vote is the hot path of a full hall. On PostgreSQL it is one call of the function
# `unconf_set_dots` (migration 0003): one round trip instead of ten, half the database CPU
# (scripts/bench --votes-only). SQLite, the embedded default, runs the same rules through the
# ORM (set_dots_portable). Lock order in both: event -> attendee -> proposal.
def set_dots(*, attendee: Attendee, proposal_id: int, dots: int) -> DotsSet:
    """Set (never add) the attendee's dots on a proposal. Idempotent.

    The budget and the per-proposal cap hold whatever arrives at once: the event row is held
    (see the module docstring), the attendee row is locked for the check-and-write, and the
    unique constraint backs it up.
    """
    if connection.vendor == "postgresql":
        return _set_dots_in_postgres(attendee, proposal_id, dots)
    return set_dots_portable(attendee=attendee, proposal_id=proposal_id, dots=dots)


def _set_dots_in_postgres(attendee: Attendee, proposal_id: int, dots: int) -> DotsSet:
    # Outside a transaction the call is its own (autocommit): one round trip, no BEGIN/COMMIT.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM unconf_set_dots(%s, %s, %s, %s, %s)",
            [attendee.event_id, attendee.pk, proposal_id, dots, timezone.now()],
        )
        return _dots_set(cursor.fetchone(), event_id=attendee.event_id)


def _dots_set(row, *, event_id: int, on_change=_on_commit_tally_changed) -> DotsSet:
    """The function's answer as a DotsSet, or its refusal raised."""
    outcome, max_dots, budget, vote_proposals, vote_dots, own = row
    if outcome in _REFUSALS:
        raise _REFUSALS[outcome](max_dots)
    changed = outcome == "changed"
    if changed:
        on_change(event_id)
    return DotsSet(changed, budget, dict(zip(vote_proposals, vote_dots, strict=True)), own)


@dataclass(frozen=True)
class Voter:
    """Who voted, as the vote's answer (`me`) shows them."""

    public_id: str
    display_name: str


# The API's vote on PostgreSQL: finding the attendee by token and the vote are one round trip.
VOTE_BY_TOKEN_SQL = "SELECT * FROM unconf_vote(%s, %s, %s, %s, %s)"


def vote_by_token_params(*, slug: str, token: str, proposal_id: int, dots: int) -> list:
    return [slug, hash_token(token), proposal_id, dots, timezone.now()]


def vote_by_token_answer(row, *, on_change=_on_commit_tally_changed) -> tuple[Voter, DotsSet] | None:
    """What unconf_vote returned: (who, what) for the answer, None if no attendee holds the
    token, or the refusal raised. `on_change(event_id)` runs when the vote changed something."""
    attendee_id, event_id, public_id, display_name, *outcome = row
    if attendee_id is None:
        return None
    return Voter(public_id, display_name), _dots_set(outcome, event_id=event_id, on_change=on_change)


_REFUSALS = {
    "no_event": lambda _: NotFound("No event with this address."),
    "closed": lambda _: VotingClosed(),
    "invalid_dots": lambda max_dots: InvalidDots(f"Dots on one proposal must be between 0 and {max_dots}."),
    "no_proposal": lambda _: NotFound("No such proposal in this event."),
    "over_budget": lambda _: BudgetExhausted(),
    "not_open": lambda _: Conflict("This proposal is not open for votes."),
    "not_votable": lambda _: NotVotable(),
}


def set_dots_portable(*, attendee: Attendee, proposal_id: int, dots: int) -> DotsSet:
    """set_dots for databases without the function (SQLite, the embedded default): the same
    rules and lock order through the ORM. Not a hot path: a full hall runs on PostgreSQL.
    tests/test_counts_invariant.py runs the same property test on both databases."""
    with transaction.atomic():
        event = _lock_event_shared(attendee.event_id)
        if event is None:
            raise NotFound("No event with this address.")
        if not event.voting_is_open():
            raise VotingClosed()
        if not 0 <= dots <= event.max_dots_per_proposal:
            raise InvalidDots(f"Dots on one proposal must be between 0 and {event.max_dots_per_proposal}.")
        Attendee.objects.select_for_update().filter(pk=attendee.pk).values_list("pk").get()
        with connection.cursor() as cursor:
            held, own = snapshots.read_mine(cursor, [attendee.pk])[attendee.pk]
        before = held.get(proposal_id, 0)
        in_event = Proposal.objects.filter(pk=proposal_id, event_id=event.pk)
        if dots == before:
            if before == 0 and not in_event.exists():
                raise NotFound("No such proposal in this event.")
            return DotsSet(False, event.votes_per_attendee, held, own)
        if sum(held.values()) - before + dots > event.votes_per_attendee:
            raise BudgetExhausted()
        found = in_event.values_list("status", "done_in_round").first()
        if found is None:
            raise NotFound("No such proposal in this event.")
        status, done_in_round = found
        # Taking dots back is always allowed; adding needs a published proposal of this round.
        if dots > before and done_in_round is not None:
            raise NotVotable()
        if dots > before and status != ProposalStatus.PUBLISHED:
            raise Conflict("This proposal is not open for votes.")
        mine = Vote.objects.filter(attendee=attendee, proposal_id=proposal_id)
        if dots == 0:
            mine.delete()
        elif before == 0:
            Vote.objects.create(event_id=event.pk, attendee=attendee, proposal_id=proposal_id, dots=dots)
        else:
            mine.update(dots=dots, updated_at=timezone.now())
        _ledger(
            event=event,
            attendee_id=attendee.pk,
            proposal_id=proposal_id,
            before=before,
            after=dots,
            cause=LedgerCause.VOTE,
        ).save(force_insert=True)
        _on_commit_tally_changed(event.pk)
    if dots:
        held[proposal_id] = dots
    else:
        held.pop(proposal_id, None)
    return DotsSet(True, event.votes_per_attendee, held, own)


def _lock_event_shared(event_id: int) -> Event | None:
    """Hold the event row so that no close/merge/refund can interleave with this vote."""
    if connection.vendor == "postgresql":
        return next(
            iter(Event.objects.raw("SELECT * FROM voting_event WHERE id = %s FOR KEY SHARE", [event_id])),
            None,
        )
    return Event.objects.select_for_update().filter(pk=event_id).first()  # SQLite: one writer anyway


def replay_ledger(entries: Iterable[LedgerEntry]) -> dict[int, dict[str, int]]:
    """The recount: replaying every accepted change gives each proposal's dots and voters."""
    state: dict[tuple[int, int], int] = {}
    for entry in entries:
        state[(entry.attendee_id, entry.proposal_id)] = entry.dots_after
    totals: dict[int, dict[str, int]] = {}
    for (_, proposal_id), dots in state.items():
        if dots:
            t = totals.setdefault(proposal_id, {"dots": 0, "voters": 0})
            t["dots"] += dots
            t["voters"] += 1
    return totals
