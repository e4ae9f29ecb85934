"""Unconf's data: events, attendees, badges, proposals, votes and the vote ledger.

Integrity lives here and in the database: one vote row per attendee and proposal, dots never
below one, and a proposal's counters (`dots`, `voters`) moved by one trigger on the vote rows
and by nothing else (migration 0005). The `revision` columns are the database's too: the
feed's version is their sum (snapshots.state_clock). A new table whose rows the live state
shows must touch its event's revision the same way (see 0005's `_touches_event` triggers).
Reads that several faces share (the ranking, the participation figures) are defined once, on
the QuerySets below.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


class DatabaseMaintained(models.Model):
    """A model with columns only the database writes: save() never writes them back.

    Without this, saving an instance read before a vote or a refund would put its stale
    counters back (the phantom counts of issue 13).
    """

    DATABASE_MAINTAINED: tuple[str, ...] = ("revision",)

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if not self._state.adding:
            if update_fields is None:
                update_fields = [f.name for f in self._meta.concrete_fields if not f.primary_key]
            update_fields = [name for name in update_fields if name not in self.DATABASE_MAINTAINED]
        super().save(*args, update_fields=update_fields, **kwargs)


def revision_field(default: int):
    return models.PositiveBigIntegerField(default=default, editable=False)


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
            first = Round.objects.create(event=self, number=1, name=Round.default_name(1), started_at=self.created_at)
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


class ProposalStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    PENDING = "pending", _("Waiting for approval")
    HIDDEN = "hidden", _("Hidden by organizers")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged into another proposal")


class ProposalQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=ProposalStatus.PUBLISHED)

    def in_play(self):
        """Published and not scheduled in an earlier round: what the current round votes on."""
        return self.published().filter(done_in_round__isnull=True)

    def ranked(self):
        """The one ranking every face shows: most dots, then most voters, then oldest."""
        return self.in_play().order_by("-dots", "-voters", "created_at", "id")


class Proposal(DatabaseMaintained):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(
        Attendee, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    host_name = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PUBLISHED)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # The sum of the vote rows, kept by the database in the transaction that writes them.
    dots = models.PositiveIntegerField(default=0, editable=False)
    voters = models.PositiveIntegerField(default=0, editable=False)
    length = models.PositiveSmallIntegerField(default=1)  # consecutive slots it runs for
    # The round it was proposed in; and the round whose schedule placed it, once that round
    # ended (then nobody votes on it again: `not_votable`).
    round = models.ForeignKey(Round, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    done_in_round = models.ForeignKey(
        Round, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revision = revision_field(1)  # raised by the database on every other change of the row
    tally_revision = revision_field(0)  # raised with every change of the counters

    objects = ProposalQuerySet.as_manager()

    DATABASE_MAINTAINED = ("dots", "voters", "revision", "tally_revision")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["event", "status"])]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self._state.adding and self.round_id is None:
            self.round_id = Event.objects.filter(pk=self.event_id).values_list("current_round", flat=True).first()
        super().save(*args, **kwargs)


class VoteQuerySet(models.QuerySet):
    def recount(self):
        """Counts straight from the vote rows, for checks and the ledger recount."""
        return {
            row["proposal_id"]: {"dots": row["dots"], "voters": row["voters"]}
            for row in self.values("proposal_id").annotate(dots=Sum("dots"), voters=Count("id"))
        }


class Vote(models.Model):
    """An attendee's dots on one proposal in the current round. No row means zero dots.
    When a round ends its rows move to RoundVote (the counters follow them back to zero)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="votes")
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="votes")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="votes")
    dots = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = VoteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attendee", "proposal"], name="one_vote_row_per_pair"),
            models.CheckConstraint(condition=Q(dots__gte=1), name="vote_has_dots"),
        ]

    def __str__(self):
        return f"{self.attendee} → {self.proposal_id}: {self.dots}"


class RoundVote(models.Model):
    """An attendee's dots on one proposal when a round ended: that round's results."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="votes")
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="+")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    dots = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "attendee", "proposal"], name="one_round_vote_per_pair")
        ]

    def __str__(self):
        return f"{self.round}: {self.attendee_id} → {self.proposal_id}: {self.dots}"


class LedgerCause(models.TextChoices):
    VOTE = "vote", _("Vote")
    WITHDRAWN = "withdrawn", _("Proposal withdrawn")
    HIDDEN = "hidden", _("Proposal hidden")
    PENDING = "pending", _("Proposal sent back to pending")
    MERGE = "merge", _("Proposals merged")


class LedgerEntry(models.Model):
    """Every accepted change of anyone's dots; replaying it gives the results."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="ledger")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="+")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    dots_before = models.PositiveSmallIntegerField()
    dots_after = models.PositiveSmallIntegerField()
    cause = models.CharField(max_length=10, choices=LedgerCause.choices)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"

    def __str__(self):
        return f"#{self.pk} {self.attendee_id}→{self.proposal_id} {self.dots_before}→{self.dots_after}"


class Room(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=80)
    capacity = models.PositiveIntegerField(default=30)
    directions = models.CharField(max_length=120, blank=True)  # "2nd floor, past the café" (stage, phones)

    class Meta:
        ordering = ["-capacity", "name", "id"]

    def __str__(self):
        return self.name


class Slot(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="slots")
    round = models.ForeignKey(Round, null=True, blank=True, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    label = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            )
        ]

    def __str__(self):
        return self.label or f"{self.starts_at:%H:%M}"

    def save(self, *args, **kwargs):
        if self.round_id is None:  # a slot without a round belongs to the current one
            self.round_id = Event.objects.filter(pk=self.event_id).values_list("current_round", flat=True).first()
        super().save(*args, **kwargs)


class ScheduledSession(models.Model):
    """A proposal placed in a room and slot, in the draft or the published schedule."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scheduled_sessions")
    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="scheduled")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sessions")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="sessions")
    pinned = models.BooleanField(default=False)
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["slot__starts_at", "room__name"]
        constraints = [models.UniqueConstraint(fields=["room", "slot"], name="one_session_per_room_and_slot")]

    def __str__(self):
        return f"{self.proposal} @ {self.room} / {self.slot}"


class CoHost(models.Model):
    """An attendee who hosts a proposal with its author (at most UNCONF_COHOSTS_MAX per proposal)."""

    # The event, denormalised: a change here changes the event's live state (schedule conflicts).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="cohosts")
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="cohosting")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "attendee"], name="one_cohost_row_per_pair")
        ]

    def __str__(self):
        return f"{self.attendee} co-hosts {self.proposal}"


class CohostInvite(models.Model):
    """A single-use code that makes whoever redeems it a co-host of the proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="cohost_invites")
    # As secret as a link shared in a chat: kept in clear, 60 random bits, single use.
    code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_by = models.ForeignKey(Attendee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.code


class Unavailability(models.Model):
    """An attendee cannot host in this slot; the builder keeps their sessions out of it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")  # as CoHost.event
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="unavailable")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="unavailable_hosts")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attendee", "slot"], name="one_unavailability_per_slot")
        ]

    def __str__(self):
        return f"{self.attendee} not at {self.slot}"


class LeftOut(models.Model):
    """Why the last generated schedule left a proposal out (`unscheduled` in the schedule)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="left_out")
    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="left_out")
    reason = models.TextField()

    def __str__(self):
        return f"{self.proposal}: {self.reason}"


# --- during and after the sessions (contract 5.2) ---------------------------------------------


class Star(models.Model):
    """An attendee's interest in a session, voter or not: it puts it in "my schedule"."""

    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="stars")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attendee", "proposal"], name="one_star_per_pair")]

    def __str__(self):
        return f"{self.attendee} ☆ {self.proposal_id}"


class CheckIn(models.Model):
    """An attendee in a session (the law of two feet). Rows are kept after leaving
    (`left_at`): having been in a session lets one read and write its notes."""

    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="checkins")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="checkins")
    created_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # In one session at a time: checking in elsewhere closes the open row first.
            models.UniqueConstraint(
                fields=["attendee"], condition=Q(left_at__isnull=True), name="one_open_checkin_per_attendee"
            )
        ]
        indexes = [models.Index(fields=["proposal", "left_at"])]

    def __str__(self):
        return f"{self.attendee} @ {self.proposal_id}"


class NoteRevision(models.Model):
    """One saved version of a session's notes; the newest is the notes. None is ever changed."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="note_revisions")
    revision = models.PositiveIntegerField()
    text = models.TextField()
    # Who wrote it, as shown in the history: an attendee pseudonym or an organizer's username.
    author = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["proposal", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "revision"], name="one_note_revision_number")
        ]

    def __str__(self):
        return f"notes of {self.proposal_id} r{self.revision}"


class Screen(models.Model):
    """A stage (projector) connected to the live feed, seen within the last minute or so.

    In the database so that every Daphne process counts the same screens, and a process
    that dies leaves only rows that age out."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="screens")
    key = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"screen {self.key} of {self.event_id}"
