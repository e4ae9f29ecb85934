"""JSON shapes of the contract for events, attendees and badges; input validation."""

import zoneinfo

from django.utils import timezone
from rest_framework import serializers

from voting.events.models import Attendee, Badge, Event


def clean_text(value: str) -> str:
    """Strip surrounding blanks and refuse control characters other than newlines and tabs."""
    value = value.strip()
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in value):
        raise serializers.ValidationError("Control characters are not allowed.")
    return value


class EventSerializer(serializers.ModelSerializer):
    """Everyone sees the event; only organizers see its join code."""

    join_code = serializers.CharField(read_only=True)

    class Meta:
        model = Event
        fields = [
            "slug",
            "name",
            "identity_mode",
            "join_code",
            "votes_per_attendee",
            "max_dots_per_proposal",
            "tally_visibility",
            "moderation",
            "accepting_proposals",
            "voting_open",
            "voting_closes_at",
            "results_revealed",
            "schedule_published",
            "time_zone",
            "current_round",
            "stage_view",
            "announcement",
            "proceedings_published",
        ]
        # POST .../proceedings/publish; POST .../rounds/<id>/start
        read_only_fields = ["proceedings_published", "current_round"]
        extra_kwargs = {"slug": {"required": False}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # The flag says what the server enforces: past the deadline, voting is closed.
        data["voting_open"] = instance.voting_is_open()
        if not self.context.get("is_organizer"):
            data.pop("join_code")
        return data

    def validate_slug(self, value):
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("An event's address cannot change: its QR codes are printed.")
        if Event.objects.filter(slug=value).exclude(pk=getattr(self.instance, "pk", None)).exists():
            raise serializers.ValidationError("An event with this slug already exists.")
        return value

    def validate_votes_per_attendee(self, value):
        if not 1 <= value <= 100:
            raise serializers.ValidationError("Between 1 and 100 dots per attendee.")
        return value

    def validate_max_dots_per_proposal(self, value):
        if not 1 <= value <= 100:
            raise serializers.ValidationError("Between 1 and 100 dots per proposal.")
        return value

    def validate_time_zone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("An IANA time zone name, such as Europe/Berlin.")
        return value

    def validate_announcement(self, value):
        return clean_text(value)

    def validate_voting_closes_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The deadline must be in the future.")
        return value


class AttendeeSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Attendee
        fields = ["id", "display_name"]


class JoinSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class JoinResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    attendee = AttendeeSerializer()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class BadgeSerializer(serializers.ModelSerializer):
    attendee_id = serializers.CharField(source="attendee.public_id", read_only=True)

    class Meta:
        model = Badge
        fields = ["code", "attendee_id", "status"]


class BadgeCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=2000)
