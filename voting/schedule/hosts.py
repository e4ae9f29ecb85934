"""Who hosts a proposal (its author and up to UNCONF_COHOSTS_MAX co-hosts) and when hosts cannot host.

Rules a caller must know: an invite code makes one co-host, once; a refused redemption (cap,
already a host) leaves the code usable. Co-hosts edit the proposal like its author, but only
the author or an organizer withdraws it (proposals/api.py). The builder keeps each host in one place at
a time and out of the slots they marked (schedule/solver); a merge adds the merged proposal's
hosts to the target's, up to the cap.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from voting.core.errors import Conflict, InvalidCode
from voting.events.models import JOIN_CODE_LENGTH, Attendee, normalize_code, random_code
from voting.feed import broadcast
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule.models import CoHost, CohostInvite, Slot, Unavailability

INVITE_CODE_LENGTH = 12  # 12 symbols of 32 = 60 random bits
AUTHOR_MAX_LENGTH = 2  # an author may ask for a double session; organizers decide beyond that
MAX_LENGTH = 8


class CohostCap(Conflict):
    code = "cohost_cap"
    default_detail = "This proposal already has as many co-hosts as allowed."


class AlreadyHost(Conflict):
    code = "already_host"
    default_detail = "You already host this proposal."


def check_length(length: int, *, by_organizer: bool) -> int:
    """A proposal's length in slots: 1 or 2 for its hosts, up to MAX_LENGTH for organizers."""
    limit = MAX_LENGTH if by_organizer else AUTHOR_MAX_LENGTH
    if not 1 <= length <= limit:
        raise serializers.ValidationError({"length": [f"A session lasts 1 to {limit} slots."]})
    return length


def is_host(proposal: Proposal, attendee: Attendee | None) -> bool:
    if attendee is None:
        return False
    return (
        proposal.author_id == attendee.pk
        or CoHost.objects.filter(proposal=proposal, attendee=attendee).exists()
    )


def hosted_by(attendee: Attendee) -> list[int]:
    """Ids of the proposals this attendee co-hosts (not those they wrote)."""
    return list(CoHost.objects.filter(attendee=attendee).values_list("proposal_id", flat=True))


def host_ids(proposal_ids: Iterable[int]) -> dict[int, list[int]]:
    """Proposal id -> attendee ids of its hosts, author first; two queries for any number."""
    ids = list(proposal_ids)
    hosts: dict[int, list[int]] = {pid: [] for pid in ids}
    for pid, author_id in Proposal.objects.filter(pk__in=ids).values_list("id", "author_id"):
        if author_id is not None:
            hosts[pid].append(author_id)
    for pid, attendee_id in CoHost.objects.filter(proposal_id__in=ids).values_list(
        "proposal_id", "attendee_id"
    ):
        hosts[pid].append(attendee_id)
    return hosts


def host_pseudonyms(proposal_ids: Iterable[int]) -> dict[int, list[str]]:
    """Proposal id -> public ids of its hosts, author first (what `hosts` shows)."""
    ids = list(proposal_ids)
    hosts: dict[int, list[str]] = {pid: [] for pid in ids}
    for pid, author in Proposal.objects.filter(pk__in=ids, author__isnull=False).values_list(
        "id", "author__public_id"
    ):
        hosts[pid].append(author)
    for pid, public_id in CoHost.objects.filter(proposal_id__in=ids).values_list(
        "proposal_id", "attendee__public_id"
    ):
        hosts[pid].append(public_id)
    return hosts


def create_invite(*, proposal: Proposal) -> CohostInvite:
    """A fresh single-use code (who may ask is checked by the view: author or organizer)."""
    if proposal.status in (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED):
        raise Conflict("This proposal can no longer take co-hosts.")
    return CohostInvite.objects.create(proposal=proposal, code=random_code(INVITE_CODE_LENGTH))


def redeem_invite(*, attendee: Attendee, code: str) -> Proposal:
    """Make the attendee a co-host of the invite's proposal; the code is used up on success."""
    wanted = normalize_code(code)
    if len(wanted) <= JOIN_CODE_LENGTH:
        raise InvalidCode("That invite code is not valid.")
    with transaction.atomic():
        invite = (
            CohostInvite.objects.select_for_update()
            .filter(code=wanted, proposal__event_id=attendee.event_id, used_at__isnull=True)
            .first()
        )
        if invite is None:
            raise InvalidCode("That invite code is not valid (or it was used already).")
        # Serialise redemptions on one proposal so the cap holds under concurrency.
        proposal = Proposal.objects.select_for_update().get(pk=invite.proposal_id)
        if proposal.status in (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED):
            raise InvalidCode("That proposal was withdrawn or merged.")
        if is_host(proposal, attendee):
            raise AlreadyHost()
        if CoHost.objects.filter(proposal=proposal).count() >= settings.UNCONF_COHOSTS_MAX:
            raise CohostCap()
        CoHost.objects.create(event_id=proposal.event_id, proposal=proposal, attendee=attendee)
        invite.used_by, invite.used_at = attendee, timezone.now()
        invite.save(update_fields=["used_by", "used_at"])
        transaction.on_commit(lambda: broadcast.state_changed(proposal.event_id), robust=True)
    return proposal


def merge_hosts(*, source: Proposal, target: Proposal) -> list[str]:
    """Inside a merge's transaction: the target keeps its hosts and gains the source's, up to
    the cap. Returns the public ids of hosts that did not fit."""
    current = set(host_ids([target.pk])[target.pk])
    room = settings.UNCONF_COHOSTS_MAX - CoHost.objects.filter(proposal=target).count()
    dropped = []
    for attendee_id in host_ids([source.pk])[source.pk]:
        if attendee_id in current:
            continue
        if room > 0:
            CoHost.objects.create(event_id=target.event_id, proposal=target, attendee_id=attendee_id)
            current.add(attendee_id)
            room -= 1
        else:
            dropped.append(attendee_id)
    return list(
        Attendee.objects.filter(pk__in=dropped).order_by("created_at").values_list("public_id", flat=True)
    )


def unavailable_slots(attendee: Attendee) -> list[int]:
    return sorted(Unavailability.objects.filter(attendee=attendee).values_list("slot_id", flat=True))


def set_unavailable_slots(*, attendee: Attendee, slot_ids: list[int]) -> list[int]:
    """Replace the slots the attendee cannot host in (ids of this event's slots)."""
    wanted = set(slot_ids)
    known = set(Slot.objects.filter(event_id=attendee.event_id, pk__in=wanted).values_list("pk", flat=True))
    if wanted - known:
        raise serializers.ValidationError({"unavailable_slots": ["No such slot in this event."]})
    with transaction.atomic():
        Unavailability.objects.filter(attendee=attendee).exclude(slot_id__in=wanted).delete()
        have = set(Unavailability.objects.filter(attendee=attendee).values_list("slot_id", flat=True))
        Unavailability.objects.bulk_create(
            Unavailability(event_id=attendee.event_id, attendee=attendee, slot_id=s) for s in wanted - have
        )
        transaction.on_commit(lambda: broadcast.state_changed(attendee.event_id), robust=True)
    return sorted(wanted)
