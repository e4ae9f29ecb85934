"""Writes while and after the sessions run (contract 5.2): stars, check-ins, notes, proceedings,
and the stages' presence.

Rules a caller must know: check-in needs a published schedule and a session that runs now
(or starts within UNCONF_CHECKIN_EARLY_MINUTES); an attendee is in one session at a time.
Notes keep every revision; `expected_revision` (If-Match) refuses a stale edit. Every change
that a screen shows is broadcast after commit.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from voting.core.errors import Conflict, Forbidden, NotFound
from voting.day.live import SCREEN_SEEN_SECONDS, checkin_window
from voting.day.models import CheckIn, NoteRevision, Screen, Star
from voting.events.models import Attendee, Event
from voting.feed import broadcast
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule import hosts
from voting.schedule.board import published_round_ids, schedule_visible
from voting.schedule.models import ScheduledSession


class NotPublished(Conflict):
    code = "not_published"
    default_detail = "The schedule is not published yet."


class NotRunning(Conflict):
    code = "not_running"
    default_detail = "This session is not running now: check in while it runs or just before it starts."


class EditConflict(Conflict):
    code = "edit_conflict"
    default_detail = "Someone saved these notes meanwhile: reload them and edit again."


def _broadcast(event_id: int) -> None:
    transaction.on_commit(lambda: broadcast.state_changed(event_id), robust=True)


def scheduled_session(event: Event, proposal_id: int) -> ScheduledSession:
    session = (
        ScheduledSession.objects.filter(
            event=event, proposal_id=proposal_id, proposal__status=ProposalStatus.PUBLISHED
        )
        .select_related("proposal", "room", "slot")
        .first()
    )
    if session is None:
        raise NotFound("No such session in the schedule.")
    return session


# --- stars -----------------------------------------------------------------------------------


def set_stars(*, attendee: Attendee, proposal_ids: list[int]) -> list[int]:
    """Replace the attendee's starred sessions; ids that are not published proposals of the
    event are refused (a ValueError naming them)."""
    wanted = set(proposal_ids)
    known = set(
        Proposal.objects.filter(
            event_id=attendee.event_id, pk__in=wanted, status=ProposalStatus.PUBLISHED
        ).values_list("pk", flat=True)
    )
    if wanted - known:
        raise ValueError(sorted(wanted - known))
    with transaction.atomic():
        Star.objects.filter(attendee=attendee).exclude(proposal_id__in=wanted).delete()
        have = set(Star.objects.filter(attendee=attendee).values_list("proposal_id", flat=True))
        Star.objects.bulk_create(
            [Star(attendee=attendee, proposal_id=pid) for pid in sorted(wanted - have)], ignore_conflicts=True
        )
    return stars_of(attendee)


def stars_of(attendee: Attendee) -> list[int]:
    return sorted(
        Star.objects.filter(attendee=attendee, proposal__status=ProposalStatus.PUBLISHED).values_list(
            "proposal_id", flat=True
        )
    )


# --- the law of two feet ---------------------------------------------------------------------


def check_in(*, event: Event, attendee: Attendee, proposal_id: int) -> CheckIn:
    """Count the attendee in this session; from any other session they leave at once."""
    if not schedule_visible(event):
        raise NotPublished()
    session = scheduled_session(event, proposal_id)
    if session.slot.round_id not in published_round_ids(event):
        raise NotPublished()
    opens, closes = checkin_window(session.slot)
    now = timezone.now()
    if not opens <= now < closes:
        raise NotRunning()
    with transaction.atomic():
        # The attendee row serialises one person's taps on two phones/tabs.
        Attendee.objects.select_for_update().filter(pk=attendee.pk).first()
        current = CheckIn.objects.filter(attendee=attendee, left_at__isnull=True).first()
        if current is not None and current.proposal_id == proposal_id:
            return current
        if current is not None:
            current.left_at = now
            current.save(update_fields=["left_at"])
        checkin = CheckIn.objects.create(attendee=attendee, proposal_id=proposal_id, created_at=now)
        _broadcast(event.pk)
    return checkin


def check_out(*, event: Event, attendee: Attendee, proposal_id: int) -> None:
    scheduled_session(event, proposal_id)
    with transaction.atomic():
        left = CheckIn.objects.filter(
            attendee=attendee, proposal_id=proposal_id, left_at__isnull=True
        ).update(left_at=timezone.now())
        if left:
            _broadcast(event.pk)


def current_checkin(attendee: Attendee) -> int | None:
    return (
        CheckIn.objects.filter(attendee=attendee, left_at__isnull=True)
        .values_list("proposal_id", flat=True)
        .first()
    )


# --- notes and proceedings -------------------------------------------------------------------


def may_write_notes(*, session: ScheduledSession, attendee: Attendee | None, is_organizer: bool) -> bool:
    """Organizers, the session's hosts (author and co-hosts), and anyone checked in to it now or before."""
    if is_organizer:
        return True
    if attendee is None:
        return False
    if hosts.is_host(session.proposal, attendee):
        return True
    return CheckIn.objects.filter(attendee=attendee, proposal_id=session.proposal_id).exists()


def may_read_notes(*, event: Event, session: ScheduledSession, attendee, is_organizer: bool) -> bool:
    return event.proceedings_published or may_write_notes(
        session=session, attendee=attendee, is_organizer=is_organizer
    )


def latest_notes(proposal_id: int) -> NoteRevision | None:
    return NoteRevision.objects.filter(proposal_id=proposal_id).order_by("-revision").first()


def save_notes(
    *, session: ScheduledSession, text: str, author: str, expected_revision: int | None
) -> NoteRevision:
    """A new revision of the session's notes. With `expected_revision`, refuse (EditConflict)
    if someone saved since; without it, the last writer wins. Earlier revisions stay."""
    with transaction.atomic():
        Proposal.objects.select_for_update().filter(pk=session.proposal_id).first()
        latest = latest_notes(session.proposal_id)
        current = latest.revision if latest else 0
        if expected_revision is not None and expected_revision != current:
            raise EditConflict()
        if latest is not None and latest.text == text:
            return latest  # a replayed save changes nothing
        return NoteRevision.objects.create(
            proposal_id=session.proposal_id, revision=current + 1, text=text, author=author
        )


def publish_proceedings(*, event: Event, published: bool) -> Event:
    with transaction.atomic():
        Event.objects.filter(pk=event.pk).update(proceedings_published=published)
        _broadcast(event.pk)
    event.proceedings_published = published
    return event


def require_writer(**kwargs) -> None:
    if not may_write_notes(**kwargs):
        raise Forbidden(
            "Only the session's hosts, the attendees who checked in to it and organizers may do this."
        )


# --- stages connected to the live feed -------------------------------------------------------


def screen_connected(*, event_id: int, key: str) -> None:
    # Rows of stages whose process died without a goodbye age out of the count; drop them here.
    Screen.objects.filter(event_id=event_id, seen_at__lt=timezone.now() - timedelta(hours=1)).delete()
    Screen.objects.update_or_create(key=key, defaults={"event_id": event_id, "seen_at": timezone.now()})
    broadcast.state_changed(event_id)


def screen_seen(*, key: str) -> None:
    Screen.objects.filter(key=key).update(seen_at=timezone.now())


def screen_disconnected(*, event_id: int, key: str) -> None:
    Screen.objects.filter(key=key).delete()
    broadcast.state_changed(event_id)


def forget_silent_screens(event_id: int) -> None:
    """Stages not heard from for a while (their process died, no goodbye) stop counting."""
    silent = timezone.now() - timedelta(seconds=SCREEN_SEEN_SECONDS)
    if Screen.objects.filter(event_id=event_id, seen_at__lt=silent).delete()[0]:
        broadcast.state_changed(event_id)
