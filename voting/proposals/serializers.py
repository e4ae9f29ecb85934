"""JSON shapes of the contract for proposals; input validation."""

from rest_framework import serializers

from voting.events.serializers import clean_text
from voting.proposals.models import Proposal, ProposalStatus


class ProposalSerializer(serializers.ModelSerializer):
    """Counts (`dots`, `voters`) appear only when the caller may see them (context)."""

    title = serializers.CharField(min_length=3, max_length=120)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    host_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ProposalStatus.choices, required=False)
    merged_into = serializers.PrimaryKeyRelatedField(read_only=True)
    mine = serializers.SerializerMethodField()
    length = serializers.IntegerField(min_value=1, required=False)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "title",
            "description",
            "host_name",
            "status",
            "merged_into",
            "created_at",
            "mine",
            "length",
            "round",
            "dots",
            "voters",
        ]
        read_only_fields = ["id", "created_at", "round", "dots", "voters"]

    def get_mine(self, proposal) -> bool:
        attendee = self.context.get("attendee")
        return attendee is not None and proposal.author_id == attendee.pk

    def validate_title(self, value):
        value = clean_text(value)
        if len(value) < 3:
            raise serializers.ValidationError("A title needs at least 3 characters.")
        return value

    def validate_description(self, value):
        return clean_text(value)

    def validate_host_name(self, value):
        return clean_text(value)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_counts"):
            data.pop("dots")
            data.pop("voters")
        # Pseudonyms of the hosts: for organizers and the proposal's own hosts only.
        hosts = self.context.get("hosts", {}).get(instance.pk)
        if hosts is not None:
            data["hosts"] = hosts
        return data


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField()
