"""Django admin for everything; vote rows and the ledger are read-only (services own them)."""

from django.contrib import admin

from voting.day.models import CheckIn, NoteRevision
from voting.events.models import Attendee, Badge, Event
from voting.proposals.models import Proposal
from voting.schedule.models import Room, ScheduledSession, Slot
from voting.votes.models import LedgerEntry, Vote


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "identity_mode", "tally_visibility", "voting_open", "created_at"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["organizers"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Attendee)
class AttendeeAdmin(admin.ModelAdmin):
    list_display = ["public_id", "display_name", "event", "created_at"]
    list_filter = ["event"]
    search_fields = ["public_id", "display_name"]
    exclude = ["token_hash"]


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ["code", "attendee", "status", "event"]
    list_filter = ["event", "status"]
    search_fields = ["code"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["title", "event", "status", "dots", "voters", "created_at"]
    list_filter = ["event", "status"]
    search_fields = ["title", "host_name"]
    readonly_fields = ["dots", "voters"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ["attendee", "proposal", "dots", "updated_at"]
    list_filter = ["event"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "attendee", "proposal", "dots_before", "dots_after", "cause"]
    list_filter = ["event", "cause"]


admin.site.register(Room)
admin.site.register(Slot)
admin.site.register(ScheduledSession)


# Notes keep every revision: the history is read here, never edited (services write it).
@admin.register(NoteRevision)
class NoteRevisionAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "revision", "author", "created_at"]
    search_fields = ["proposal__title", "author"]


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ["attendee", "proposal", "created_at", "left_at"]
