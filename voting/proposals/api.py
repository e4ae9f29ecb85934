"""REST API for proposals, their co-hosts and host availability, and merges."""

import hashlib

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from voting.core import ratelimit
from voting.core.errors import Forbidden, NotFound, NotJoined, UnconfError
from voting.events.identity import client_address
from voting.events.permissions import Organizers
from voting.events.scope import ERROR, EventScoped
from voting.proposals import ranking
from voting.proposals import services as proposal_services
from voting.proposals.models import Proposal, ProposalStatus
from voting.proposals.serializers import MergeSerializer, ProposalSerializer
from voting.schedule import hosts
from voting.schedule.board import slot_dict
from voting.schedule.models import Slot


def _stable_shuffle_key(seed: str):
    def key(proposal):
        return hashlib.sha256(f"{seed}:{proposal.pk}".encode()).digest()

    return key


class ProposalListView(EventScoped):
    @extend_schema(
        parameters=[OpenApiParameter("order", enum=["random", "top"], required=False)],
        responses=ProposalSerializer(many=True),
    )
    def get(self, request, slug):
        """Published proposals (and the caller's own; organizers see all)."""
        proposals = Proposal.objects.filter(event=self.event)
        if not self.is_organizer:
            visible = Proposal.objects.in_play().filter(event=self.event)
            if self.attendee is not None:
                visible = visible | Proposal.objects.filter(author=self.attendee)
                visible = visible | Proposal.objects.filter(cohosts__attendee=self.attendee)
            proposals = visible.distinct()
        order = request.query_params.get("order") or ("top" if self.counts_visible() else "random")
        if order == "top" and self.counts_visible():
            proposals = list(proposals.order_by(*ranking.ORDER))
        else:
            seed = self.attendee.public_id if self.attendee else "public"
            proposals = sorted(proposals, key=_stable_shuffle_key(seed))
        return Response(ProposalSerializer(proposals, many=True, context=self.context(proposals)).data)

    @extend_schema(request=ProposalSerializer, responses={201: ProposalSerializer, 409: ERROR})
    def post(self, request, slug):
        if self.attendee is None and not self.is_organizer:
            raise NotJoined()
        serializer = ProposalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        proposal = proposal_services.submit_proposal(
            event=self.event,
            author=None if self.is_organizer else self.attendee,
            title=data["title"],
            description=data.get("description", ""),
            host_name=data.get("host_name", ""),
            length=hosts.check_length(data.get("length", 1), by_organizer=self.is_organizer),
        )
        return Response(ProposalSerializer(proposal, context=self.context([proposal])).data, status=201)


class ProposalSimilarView(EventScoped):
    @extend_schema(
        parameters=[OpenApiParameter("title", str, required=True)],
        responses=ProposalSerializer(many=True),
    )
    def get(self, request, slug):
        """Up to 5 published proposals that look like near-duplicates of `title`."""
        title = request.query_params.get("title", "")[:200]
        similar = proposal_services.similar_proposals(event=self.event, title=title)
        return Response(ProposalSerializer(similar, many=True, context=self.context()).data)


class ProposalAccess(EventScoped):
    """Who may see and change one proposal."""

    def get_proposal(self, pk) -> Proposal:
        proposal = Proposal.objects.filter(event=self.event, pk=pk).first()
        visible = proposal is not None and (
            self.is_organizer
            or proposal.status == ProposalStatus.PUBLISHED
            or hosts.is_host(proposal, self.attendee)
        )
        if not visible:
            raise NotFound("No such proposal in this event.")
        return proposal

    def get_own_or_organized(self, pk, *, cohosts: bool = False) -> Proposal:
        """The proposal if the caller may change it: organizers, its author, and with
        `cohosts` its co-hosts too."""
        proposal = self.get_proposal(pk)
        if not self.is_organizer:
            if self.attendee is None and not self.request.user.is_authenticated:
                raise NotJoined()
            allowed = self.attendee is not None and (
                proposal.author_id == self.attendee.pk or (cohosts and hosts.is_host(proposal, self.attendee))
            )
            if not allowed:
                raise Forbidden("You can only change your own proposals.")
        return proposal


class ProposalDetailView(ProposalAccess):
    @extend_schema(responses=ProposalSerializer)
    def get(self, request, slug, pk):
        proposal = self.get_proposal(pk)
        return Response(ProposalSerializer(proposal, context=self.context([proposal])).data)

    @extend_schema(request=ProposalSerializer, responses={200: ProposalSerializer, 409: ERROR})
    def patch(self, request, slug, pk):
        """Hosts (author and co-hosts) edit while proposals are open; organizers any time."""
        proposal = self.get_own_or_organized(pk, cohosts=True)
        serializer = ProposalSerializer(proposal, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "length" in serializer.validated_data:
            hosts.check_length(serializer.validated_data["length"], by_organizer=self.is_organizer)
        updated = proposal_services.edit_proposal(
            proposal=proposal, changes=serializer.validated_data, by_organizer=self.is_organizer
        )
        return Response(ProposalSerializer(updated, context=self.context([updated])).data)

    @extend_schema(responses={200: ProposalSerializer, 409: ERROR})
    def delete(self, request, slug, pk):
        """Withdraw (author or organizers): the proposal leaves the board and every dot on it is refunded."""
        proposal = self.get_own_or_organized(pk)
        withdrawn = proposal_services.withdraw_proposal(proposal=proposal, by_organizer=self.is_organizer)
        return Response(ProposalSerializer(withdrawn, context=self.context([withdrawn])).data)


class CohostInviteView(ProposalAccess):
    @extend_schema(
        request=None, responses={201: inline_serializer("CohostInvite", {"code": serializers.CharField()})}
    )
    def post(self, request, slug, pk):
        """A single-use code that makes one attendee a co-host (the author or organizers)."""
        proposal = self.get_own_or_organized(pk)
        return Response({"code": hosts.create_invite(proposal=proposal).code}, status=201)


class CohostView(EventScoped):
    @extend_schema(
        request=inline_serializer("CohostCode", {"code": serializers.CharField()}),
        responses={200: ProposalSerializer, 403: ERROR, 409: ERROR, 429: ERROR},
    )
    def post(self, request, slug):
        """Become a co-host with an invite code (403 invalid_code, 409 cohost_cap or already_host)."""
        attendee = self.require_attendee()
        address = client_address(request)
        ratelimit.refuse_if_guessing(address, self.event.pk)
        try:
            proposal = hosts.redeem_invite(attendee=attendee, code=str(request.data.get("code", ""))[:64])
        except UnconfError as error:
            if error.code == "invalid_code":
                ratelimit.count_wrong_code(address, self.event.pk)
            raise
        return Response(ProposalSerializer(proposal, context=self.context([proposal])).data)


class AvailabilitySerializer(serializers.Serializer):
    unavailable_slots = serializers.ListField(child=serializers.IntegerField(), max_length=500)
    slots = serializers.ListField(child=serializers.DictField(), read_only=True)


class AvailabilityView(EventScoped):
    @extend_schema(responses={200: AvailabilitySerializer, 401: ERROR})
    def get(self, request, slug):
        """The slots in which the caller cannot host, and the event's slots to choose from
        (attendees see them here before the schedule is published)."""
        attendee = self.require_attendee()
        slots = [slot_dict(slot) for slot in Slot.objects.filter(event=self.event)]
        return Response({"unavailable_slots": hosts.unavailable_slots(attendee), "slots": slots})

    @extend_schema(request=AvailabilitySerializer, responses={200: AvailabilitySerializer, 401: ERROR})
    def put(self, request, slug):
        """Replace the slots in which the caller cannot host; the builder keeps their sessions out."""
        attendee = self.require_attendee()
        data = AvailabilitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slots = hosts.set_unavailable_slots(
            attendee=attendee, slot_ids=data.validated_data["unavailable_slots"]
        )
        return Response({"unavailable_slots": slots})


class ProposalMergeView(EventScoped):
    permission_classes = [Organizers]

    def _pair(self, pk, into):
        source = get_object_or_404(Proposal, event=self.event, pk=pk)
        target = Proposal.objects.filter(event=self.event, pk=into).first()
        if target is None:
            raise serializers.ValidationError({"into": ["No such proposal in this event."]})
        return source, target

    @extend_schema(
        parameters=[OpenApiParameter("into", int, required=True)],
        responses=inline_serializer(
            "MergePreview",
            {
                "voters_moved": serializers.IntegerField(),
                "voters_shared": serializers.IntegerField(),
                "dots_moved": serializers.IntegerField(),
                "dots_refunded": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request, slug, pk):
        """Preview of a merge: how many voters and dots move and how many dots are refunded."""
        try:
            into = int(request.query_params.get("into", ""))
        except ValueError:
            raise serializers.ValidationError({"into": ["A proposal id is required."]}) from None
        source, target = self._pair(pk, into)
        return Response(proposal_services.merge_preview(source=source, target=target))

    @extend_schema(request=MergeSerializer, responses={200: ProposalSerializer, 409: ERROR})
    def post(self, request, slug, pk):
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source, target = self._pair(pk, data.validated_data["into"])
        merged = proposal_services.merge_proposals(source=source, target=target)
        body = ProposalSerializer(merged, context=self.context([merged])).data
        # Hosts of the merged proposal that did not fit under the target's co-host cap.
        return Response({**body, "hosts_dropped": merged.hosts_dropped})
