"""Events, their rounds, attendees and badges."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from voting.core.models import DatabaseMaintained, revision_field

# Letters and digits that cannot be confused when read off a projector or a badge.
UNAMBIGUOUS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6
BADGE_CODE_LENGTH = 14  # 14 symbols of 32 = 70 random bits


def random_code(length: int) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str:
    """Codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in str(raw).upper() if ch.isalnum())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_public_id() -> str:
    return "a_" + secrets.token_urlsafe(9)


def default_time_zone() -> str:
    """A new event's time zone: UNCONF_TIME_ZONE (Django's TIME_ZONE)."""
    return settings.TIME_ZONE


class IdentityMode(models.TextChoices):
    OPEN = "open", _("Open: anyone with the event code")
    BADGE = "badge", _("Badge: one code per attendee")


class TallyVisibility(models.TextChoices):
    LIVE = "live", _("Live: everyone sees counts")
    BLIND = "blind", _("Blind: no counts until results are revealed")
    ORGANIZERS = "organizers", _("Organizers only")


class Moderation(models.TextChoices):
    POST = "post", _("Post-moderation: proposals appear at once")
    PRE = "pre", _("Pre-moderation: proposals appear after approval")


class StageView(models.TextChoices):
    """What the projector shows; `auto` follows the event's phase."""

    AUTO = "auto", _("Automatic (follows the phase)")
    QR = "qr", _("Join QR code only")
    RANKING = "ranking", _("Live ranking")
    RESULTS = "results", _("Results")
    SCHEDULE = "schedule", _("Schedule")
    NOW = "now", _("Now and next")
    ANNOUNCEMENT = "announcement", _("Announcement")


class Event(DatabaseMaintained):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    identity_mode = models.CharField(max_length=10, choices=IdentityMode.choices, default=IdentityMode.OPEN)
    join_code = models.CharField(max_length=16, unique=True)
    votes_per_attendee = models.PositiveSmallIntegerField(default=5)
    max_dots_per_proposal = models.PositiveSmallIntegerField(default=1)
    tally_visibility = models.CharField(
        max_length=12, choices=TallyVisibility.choices, default=TallyVisibility.LIVE
    )
    moderation = models.CharField(max_length=4, choices=Moderation.choices, default=Moderation.POST)
    accepting_proposals = models.BooleanField(default=True)
    voting_open = models.BooleanField(default=False)
    voting_closes_at = models.DateTimeField(null=True, blank=True)
    results_revealed = models.BooleanField(default=False)
    schedule_published = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, default=default_time_zone)  # IANA name
    stage_view = models.CharField(max_length=12, choices=StageView.choices, default=StageView.AUTO)
    announcement = models.CharField(max_length=280, blank=True)
    proceedings_published = models.BooleanField(default=False)
    # The round that votes, /me, results and the schedule builder act on (contract 5.1). The
    # flags above (voting, proposals, deadline, results, schedule) are the current round's.
    current_round = models.ForeignKey(
        "Round", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    organizers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organized_events", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Raised by the database on every change of this row, its rooms, slots and sessions.
    revision = revision_field(1)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(votes_per_attendee__gte=1), name="event_budget_positive"),
            models.CheckConstraint(condition=Q(max_dots_per_proposal__gte=1), name="event_cap_positive"),
        ]

    def __str__(self):
        return self.name

    # The current round moves only by starting one (services.start_round), never by a save of
    # an instance read before.
    DATABASE_MAINTAINED = ("revision", "current_round")

    def save(self, *args, **kwargs):
        if not self.join_code:
            self.join_code = random_code(JOIN_CODE_LENGTH)
        super().save(*args, **kwargs)
        if self.current_round_id is None:
            # Every event is created with round 1, however it is created.
            first = Round.objects.create(
                event=self, number=1, name=Round.default_name(1), started_at=self.created_at
            )
            Event.objects.filter(pk=self.pk).update(current_round=first)
            self.current_round = first

    @classmethod
    def at(cls, slug: str) -> "Event | None":
        """The event at this address. Every API request and socket starts here, so it skips
        the ORM's query building (more CPU than the lookup itself; see scripts/bench)."""
        found = list(cls.objects.raw("SELECT * FROM voting_event WHERE slug = %s", [slug]))
        return found[0] if found else None

    def is_organizer(self, user) -> bool:
        if user is None or not user.is_authenticated:
            return False
        return user.is_superuser or self.organizers.filter(pk=user.pk).exists()

    def voting_is_open(self, now=None) -> bool:
        """Open by the flag and not past the deadline (the server enforces the deadline)."""
        now = now or timezone.now()
        return self.voting_open and (self.voting_closes_at is None or now < self.voting_closes_at)

    def counts_public(self) -> bool:
        return self.tally_visibility == TallyVisibility.LIVE or self.results_revealed


class Round(models.Model):
    """One marketplace of an event: its own votes, results, ledger and schedule (contract 5.1).

    The current round's phase lives on the event; when a round ends, what its readers still
    need (was its schedule published, were its results revealed) is kept here."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    started_at = models.DateTimeField(null=True, blank=True)  # null: prepared, not started yet
    ended_at = models.DateTimeField(null=True, blank=True)
    schedule_published = models.BooleanField(default=False)  # as it was when the round ended
    results_revealed = models.BooleanField(default=False)  # as it was when the round ended

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="one_round_number_per_event")]

    def __str__(self):
        return self.name

    @staticmethod
    def default_name(number: int) -> str:
        return f"Round {number}"

    def is_current(self, event: Event) -> bool:
        return self.pk == event.current_round_id

    def published(self, event: Event) -> bool:
        """Whether this round's schedule is public: the event's flag while it is current."""
        return event.schedule_published if self.is_current(event) else self.schedule_published


class Attendee(DatabaseMaintained):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendees")
    # The pseudonym shown to programs: never the row number.
    public_id = models.CharField(max_length=24, unique=True, default=new_public_id)
    # sha256 of the bearer token; empty for a badge attendee who has not redeemed yet.
    token_hash = models.CharField(max_length=64, blank=True)
    display_name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revision = revision_field(1)  # raised by the database when the token changes (participation)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # Every vote and every socket finds its attendee by (event, token hash). With an
            # index per column PostgreSQL combined both (a bitmap of the event's thousands of
            # attendees) until statistics caught up: 0.3 ms per vote (scripts/bench).
            models.Index(fields=["event", "token_hash"], name="attendee_by_event_token"),
        ]

    def __str__(self):
        return self.display_name or self.public_id

    @classmethod
    def with_token(cls, event_id: int, token: str) -> "Attendee | None":
        """The attendee holding this bearer token (on every vote: raw SQL, as Event.at)."""
        if not token:
            return None
        found = list(
            cls.objects.raw(
                "SELECT * FROM voting_attendee WHERE event_id = %s AND token_hash = %s",
                [event_id, hash_token(token)],
            )
        )
        return found[0] if found else None


class BadgeStatus(models.TextChoices):
    UNUSED = "unused", _("Not redeemed yet")
    REDEEMED = "redeemed", _("Redeemed")
    REVOKED = "revoked", _("Revoked")


class Badge(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="badges")
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="badges")
    # Kept in clear because organizers print it; it is as secret as a paper ticket.
    code = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=10, choices=BadgeStatus.choices, default=BadgeStatus.UNUSED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.code
