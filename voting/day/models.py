"""During and after the sessions (contract 5.2): stars, check-ins, notes, screens."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from voting.events.models import Attendee, Event
from voting.proposals.models import Proposal


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
