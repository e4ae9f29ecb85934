"""Input and output shapes of the schedule API: rooms, slots, placements, the whole schedule."""

from datetime import timedelta

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from voting.events.models import Round
from voting.schedule import solver
from voting.schedule.board import slot_dict
from voting.schedule.models import Room, Slot

MAX_SLOT = timedelta(hours=24)


def _plain_text(value: str) -> str:
    value = value.strip()
    if any(ord(ch) < 32 for ch in value):
        raise serializers.ValidationError("Control characters are not allowed.")
    return value


class RoomSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=80)
    capacity = serializers.IntegerField(min_value=1, max_value=100_000)
    directions = serializers.CharField(max_length=120, required=False, allow_blank=True)

    def validate_directions(self, value):
        return _plain_text(value)

    def validate_name(self, value):
        value = _plain_text(value)
        if not value:
            raise serializers.ValidationError("A room needs a name.")
        others = Room.objects.filter(event=self.context["event"], name__iexact=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("This event already has a room with this name.")
        return value


class SlotSerializer(serializers.Serializer):
    """Times with an offset, or local wall time in the event's time zone."""

    id = serializers.IntegerField(read_only=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    label = serializers.CharField(max_length=80, required=False, allow_blank=True)
    round = serializers.IntegerField(
        required=False, help_text="A round of the event; default: the current one"
    )

    def validate_label(self, value):
        return _plain_text(value)

    def validate_round(self, value):
        found = Round.objects.filter(event=self.context["event"], pk=value).first()
        if found is None:
            raise serializers.ValidationError("No such round in this event.")
        return found

    def validate(self, attrs):
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if ends <= starts:
            raise serializers.ValidationError({"ends_at": ["A slot must end after it starts."]})
        if ends - starts > MAX_SLOT:
            raise serializers.ValidationError({"ends_at": ["A slot can last at most 24 hours."]})
        # Sessions in overlapping slots would clash without the clash total knowing it.
        overlapping = Slot.objects.filter(event=self.context["event"], starts_at__lt=ends, ends_at__gt=starts)
        if self.instance is not None:
            overlapping = overlapping.exclude(pk=self.instance.pk)
        other = overlapping.first()
        if other is not None:
            times = f"{slot_dict(other)['starts_at'][11:16]}–{slot_dict(other)['ends_at'][11:16]}"
            name = f"'{other.label}' ({times})" if other.label else times
            raise serializers.ValidationError({"starts_at": [f"This slot overlaps the slot {name}."]})
        return attrs


class PlacementSerializer(serializers.Serializer):
    room = serializers.IntegerField(required=False)
    slot = serializers.IntegerField(required=False)
    pinned = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give a room, a slot or pinned.")
        return attrs


SCHEDULE = inline_serializer(
    "Schedule",
    {
        "published": serializers.BooleanField(),
        "clash_total": serializers.IntegerField(),
        "rooms": RoomSerializer(many=True),
        "slots": SlotSerializer(many=True),
        "sessions": inline_serializer(
            "ScheduledSession",
            {
                "proposal": serializers.IntegerField(),
                "title": serializers.CharField(),
                "room": serializers.IntegerField(),
                "slot": serializers.IntegerField(),
                "slots": serializers.ListField(child=serializers.IntegerField()),
                "length": serializers.IntegerField(),
                "pinned": serializers.BooleanField(),
                "voters": serializers.IntegerField(),
                "explanation": serializers.CharField(),
            },
            many=True,
        ),
        "over_capacity": serializers.ListField(child=serializers.IntegerField()),
        "unscheduled": inline_serializer(
            "Unscheduled",
            {"proposal": serializers.IntegerField(), "reason": serializers.CharField()},
            many=True,
        ),
        "conflicts": inline_serializer(
            "ScheduleConflict",
            {
                "proposals": serializers.ListField(child=serializers.IntegerField()),
                "reason": serializers.CharField(),
            },
            many=True,
        ),
        "constraints": serializers.DictField(
            child=serializers.ListField(child=serializers.DictField()),
            help_text="Organizers: per proposal, the slots where placing it would break a hard constraint.",
        ),
    },
)


class GenerateSerializer(serializers.Serializer):
    fill = serializers.ChoiceField(choices=[solver.COMPACT, solver.SPREAD], default=solver.COMPACT)
