"""Writes on proposals: submit, edit, withdraw, merge (leaving `published` refunds every dot)."""

import difflib

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from voting.core.errors import Conflict, ProposalCap, ProposalsClosed
from voting.events.models import Attendee, Event, Moderation
from voting.events.services import lock_event
from voting.feed import broadcast
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule import hosts
from voting.votes.models import LedgerCause, LedgerEntry, Vote
from voting.votes.services import ledger_row


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
        broadcast.on_commit_state_changed(event.pk)
    return proposal


def _refund_all(event: Event, proposal: Proposal, cause: str) -> bool:
    """Give every dot on the proposal back to its owner, one ledger row each (inside a
    transaction with the event locked). The counters follow the vote rows (database trigger).
    Whether anything was refunded."""
    now = timezone.now()
    votes = list(Vote.objects.filter(proposal=proposal))
    LedgerEntry.objects.bulk_create(
        ledger_row(
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
        event = lock_event(proposal.event_id)
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
        broadcast.on_commit_state_changed(current.event_id, me_stale=refunded)
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
        event = lock_event(source.event_id)
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
                ledger_row(
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
                ledger_row(
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
        broadcast.on_commit_state_changed(event.pk, me_stale=True)
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
