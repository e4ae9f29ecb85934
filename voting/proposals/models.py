"""Proposals and the queries every face shares (in play, ranked)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from voting.core.models import DatabaseMaintained, revision_field
from voting.events.models import Attendee, Event, Round
from voting.proposals import ranking


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
        """The one ranking every face shows (ranking.py)."""
        return self.in_play().order_by(*ranking.ORDER)


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
            self.round_id = (
                Event.objects.filter(pk=self.event_id).values_list("current_round", flat=True).first()
            )
        super().save(*args, **kwargs)
