"""REST API for votes, /me, results and the ledger."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from voting.core.csvfiles import csv_response
from voting.core.errors import Forbidden
from voting.events import rounds
from voting.events.permissions import Organizers
from voting.events.scope import ERROR, EventScoped
from voting.feed import snapshots
from voting.proposals import ranking
from voting.votes import services as vote_services
from voting.votes.serializers import DotsSerializer, MeSerializer, ResultRowSerializer


class VoteView(EventScoped):
    """An attendee's plain vote on PostgreSQL is answered before Django (voting/votes/fast_path.py)
    with the same answers; this view answers every other vote request."""

    def _set(self, request, pk, dots):
        attendee = self.require_attendee()
        outcome = vote_services.set_dots(attendee=attendee, proposal_id=pk, dots=dots)
        # The budget as the vote read it under its lock: a rule change may have just committed.
        return Response(snapshots.me_of(attendee, outcome.budget, outcome.votes, outcome.proposals))

    @extend_schema(request=DotsSerializer, responses={200: MeSerializer, 409: ERROR})
    def put(self, request, slug, pk):
        """Set (never add) the caller's dots on the proposal. Safe to replay."""
        data = DotsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._set(request, pk, data.validated_data["dots"])

    @extend_schema(request=None, responses={200: MeSerializer, 409: ERROR})
    def delete(self, request, slug, pk):
        return self._set(request, pk, 0)


ROUND = OpenApiParameter("round", int, description="An earlier round's id (default: the current round)")


class MeView(EventScoped):
    @extend_schema(parameters=[ROUND], responses={200: MeSerializer, 401: ERROR})
    def get(self, request, slug):
        attendee = self.require_attendee()
        round_ = rounds.round_of(self.event, request.query_params.get("round"))
        if round_.is_current(self.event):
            return Response(snapshots.me(attendee, self.event.votes_per_attendee))
        me = snapshots.me(attendee, self.event.votes_per_attendee)
        votes = {str(pid): dots for pid, dots in rounds.my_votes(attendee.pk, round_).items()}
        return Response({**me, "votes": votes, "remaining": me["budget"] - sum(votes.values())})


class ResultsMixin(EventScoped):
    def ranked_results(self):
        round_ = rounds.round_of(self.event, self.request.query_params.get("round"))
        if not (self.is_organizer or rounds.results_visible(self.event, round_)):
            raise Forbidden("Results are not visible yet.")
        return rounds.ranked_results(self.event, round_)


class ResultsView(ResultsMixin):
    @extend_schema(parameters=[ROUND], responses=ResultRowSerializer(many=True))
    def get(self, request, slug):
        return Response(ResultRowSerializer(self.ranked_results(), many=True).data)


class ResultsCsvView(ResultsMixin):
    @extend_schema(parameters=[ROUND], responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, slug):
        ranked = self.ranked_results()
        rows = (
            [rank, p.id, p.title, p.host_name, p.dots, p.voters]
            for rank, p in zip(ranking.rank_numbers(ranked), ranked, strict=True)
        )
        return csv_response(
            f"{self.event.slug}-results.csv", ["rank", "id", "title", "host_name", "dots", "voters"], rows
        )


class LedgerCsvView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(parameters=[ROUND], responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, slug):
        """Every accepted change of anyone's dots in the round; replaying it gives its results."""
        round_ = rounds.round_of(self.event, request.query_params.get("round"))
        entries = (
            rounds.ledger_of(self.event, round_)
            .order_by("id")
            .values_list(
                "id", "created_at", "attendee__public_id", "proposal_id", "dots_before", "dots_after", "cause"
            )
        )
        rows = ([seq, at.isoformat(), *rest] for seq, at, *rest in entries.iterator())
        return csv_response(
            f"{self.event.slug}-ledger.csv",
            ["seq", "server_time", "attendee", "proposal", "dots_before", "dots_after", "cause"],
            rows,
        )
