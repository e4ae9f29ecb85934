"""Rooms, slots, placed sessions, co-hosts and when hosts cannot make it."""

from django.db import models
from django.db.models import Q

from voting.events.models import Attendee, Event, Round
from voting.proposals.models import Proposal


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
            self.round_id = (
                Event.objects.filter(pk=self.event_id).values_list("current_round", flat=True).first()
            )
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
