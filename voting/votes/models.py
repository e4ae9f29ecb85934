"""Votes, the archive of ended rounds, and the ledger of every change.

A proposal's counters (`dots`, `voters`) are moved by one trigger on the vote rows and
by nothing else (migration 0005)."""

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from voting.events.models import Attendee, Event, Round
from voting.proposals.models import Proposal


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
