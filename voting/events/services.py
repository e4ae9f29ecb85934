"""Writes on events, attendees and badges, with their rules and side effects."""

import secrets

from django.db import transaction
from django.utils import timezone

from voting.core.errors import InvalidCode, NotFound, RulesLocked
from voting.events.models import (
    BADGE_CODE_LENGTH,
    Attendee,
    Badge,
    BadgeStatus,
    Event,
    IdentityMode,
    hash_token,
    normalize_code,
    random_code,
)
from voting.feed import broadcast
from voting.votes.models import Vote

RULE_FIELDS = ("votes_per_attendee", "max_dots_per_proposal")


def lock_event(event_id: int) -> Event:
    """Take the event row FOR UPDATE: waits for every vote in flight, holds back the next ones."""
    return Event.objects.select_for_update().get(pk=event_id)


def create_event(*, creator, **fields) -> Event:
    """A staff user who creates an event organizes it."""
    with transaction.atomic():
        event = Event.objects.create(**fields)
        event.organizers.add(creator)
    return event


def update_event(*, event: Event, changes: dict) -> Event:
    """Change settings or phase; rules lock once any dot is cast; closing waits for votes."""
    with transaction.atomic():
        locked = lock_event(event.pk)
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
        broadcast.on_commit_state_changed(locked.pk)
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
