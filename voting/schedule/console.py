"""The organizer's schedule console page: rooms, slots, generate, clashes, move, pin, publish.

A thin view: the page's module (`static/voting/schedule-console.js`) does everything through
the schedule API and follows the live feed. Anonymous visitors are sent to the login page;
signed-in people who do not organize the event get a 403 page that says why.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from voting.events.models import Event, Round

# The schedule editor's script sentences, translated per request and handed to
# schedule-console.js in page_data like every page's (see voting/events/console.py STAGE_STRINGS).
SCHEDULE_STRINGS = {
    "draft": _("Draft"),
    "published": _("Published"),
    "generate": _("Generate schedule"),
    "regenerate": _("Regenerate around pins"),
    "publish": _("Publish"),
    "unpublish": _("Unpublish"),
    "live": _("Live"),
    "connecting": _("Connecting…"),
    "reconnecting": _("Reconnecting…"),
    "gone": _("This event no longer exists"),
    "forbidden": _("Live updates refused"),
    "seats_one": _("{n} seat"),
    "seats_other": _("{n} seats"),
    "voters_one": _("{n} voter"),
    "voters_other": _("{n} voters"),
    "dots_one": _("{n} dot"),
    "dots_other": _("{n} dots"),
    "room_for": _("Room for “{title}”"),
    "slot_for": _("Slot for “{title}”"),
    "room": _("Room"),
    "slot": _("Slot"),
    "pin": _("Pin"),
    "pinned": _("Pinned"),
    "pin_for": _("Pin “{title}” to its cell"),
    "remove": _("Remove"),
    "remove_for": _("Take “{title}” out of the schedule"),
    "why": _("Why here?"),
    "free": _("Free cell"),
    "cell": _("{room}, {slot}: {title}"),
    "cell_free": _("{room}, {slot}: free"),
    "over": _("Over capacity: {voters} voters for {seats} seats"),
    "over_short": _("Over capacity"),
    "clash_badge_one": _("Clash: {n} shared voter"),
    "clash_badge_other": _("Clash: {n} shared voters"),
    "pair_one": _("{n} shared voter"),
    "pair_other": _("{n} shared voters"),
    "clashes_in_one": _("{n} pair shares voters in this slot:"),
    "clashes_in_other": _("{n} pairs share voters in this slot:"),
    "no_rooms_or_slots": _(
        "Add at least one room and one slot on the right, then generate the schedule from the votes."
    ),
    "not_generated": _("The grid is empty. Press “Generate schedule” to fill it from the votes."),
    "generated": _("Schedule generated: {sessions} sessions, clash total {clashes}."),
    "generated_left_one": _(
        "Schedule generated: {sessions} sessions, clash total {clashes}; {n} proposal did not fit."
    ),
    "generated_left_other": _(
        "Schedule generated: {sessions} sessions, clash total {clashes}; {n} proposals did not fit."
    ),
    "dropped_pins": _("Pins not kept: {titles}."),
    "moved": _("Moved “{title}”."),
    "added": _("Added “{title}” to the schedule."),
    "removed": _("Took “{title}” out of the schedule."),
    "pinned_message": _("Pinned “{title}”: regenerating keeps it where it is."),
    "unpinned_message": _("Unpinned “{title}”."),
    "published_message": _("Published: the stage, the phones and the exports show the schedule now."),
    "unpublished_message": _("Unpublished: only organizers see the schedule now."),
    "confirm_regenerate": _(
        "The schedule is published. Regenerating may move sessions people already planned for. "
        "Regenerate anyway?"
    ),
    "confirm_delete_room_one": _("Delete the room “{name}”? Its {n} session leaves the schedule."),
    "confirm_delete_room_other": _("Delete the room “{name}”? Its {n} sessions leave the schedule."),
    "confirm_delete_slot_one": _("Delete the slot “{name}”? Its {n} session leaves the schedule."),
    "confirm_delete_slot_other": _("Delete the slot “{name}”? Its {n} sessions leave the schedule."),
    "room_name": _("Room name"),
    "capacity": _("Seats"),
    "label": _("Label"),
    "starts": _("Starts"),
    "ends": _("Ends"),
    "save": _("Save"),
    "delete": _("Delete"),
    "delete_room": _("Delete room {name}"),
    "delete_slot": _("Delete slot {name}"),
    "room_saved": _("Saved room “{name}”."),
    "room_added": _("Added room “{name}”."),
    "room_deleted": _("Deleted room “{name}”."),
    "slot_saved": _("Saved slot {name}."),
    "slot_added": _("Added slot {name}."),
    "slot_deleted": _("Deleted slot {name}."),
    "no_rooms": _("No rooms yet."),
    "no_slots": _("No slots yet."),
    "place_in": _("Place in…"),
    "place_for": _("Place “{title}” in a free cell"),
    "no_free_cell": _("No free cell"),
    "all_scheduled": _("Every published proposal has a cell."),
    "no_proposals": _("No published proposals yet."),
    "picked_up": _("Picked up “{title}”. Arrow keys choose a cell, Enter drops it there, Escape cancels."),
    "cancelled": _("Move cancelled."),
    "conflict_badge": _("Breaks a constraint"),
    "no_conflicts": _(
        "No hard constraint is broken: no host is in two places, nobody hosts when they can’t."
    ),
    "continues": _("“{title}” continues"),
    "slots_long_one": _("{n} slot"),
    "slots_long_other": _("{n} slots"),
    "length_for": _("Length of “{title}” in slots"),
    "length_set_one": _("“{title}” now lasts {n} slot."),
    "length_set_other": _("“{title}” now lasts {n} slots."),
    "cohosts_one": _("{n} co-host"),
    "cohosts_other": _("{n} co-hosts"),
    "blocked_here": _("Would break a constraint: {reason}"),
    "slot_added_to": _("Added slot {name} to “{round}”; it shows here once that round starts."),
    "earlier_published": _("Published"),
    "earlier_unpublished": _("Not published"),
    "earlier_clashes_one": _("{n} clash"),
    "earlier_clashes_other": _("{n} clashes"),
    "earlier_none": _("Nothing was scheduled in this round."),
    "earlier_room": _("Room"),
    "earlier_time": _("Time"),
    "earlier_session": _("Session"),
}


@never_cache
@ensure_csrf_cookie
def organize_schedule(request, slug):
    event = get_object_or_404(Event, slug=slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not event.is_organizer(request.user):
        context = {"event": event, "forbidden": True, "username": request.user.get_username()}
        return render(request, "voting/organize_schedule.html", context, status=403)
    api = f"/api/events/{event.slug}"
    page_data = {
        "slug": event.slug,
        "api": api,
        "time_zone": event.time_zone,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "schedule_page": reverse("schedule-page", args=[event.slug]),
        "strings": {key: str(text) for key, text in SCHEDULE_STRINGS.items()},
    }
    rounds = list(Round.objects.filter(event=event))
    context = {
        "event": event,
        "page_data": page_data,
        # Slots can go to the current round or one prepared for later, not to one that ended.
        "open_rounds": [r for r in rounds if r.is_current(event) or r.started_at is None],
        "current_round": next((r for r in rounds if r.is_current(event)), None),
        "exports": [
            ("schedule.json", f"{api}/schedule.json"),
            ("schedule.ics", f"{api}/schedule.ics"),
            ("schedule.xml", f"{api}/schedule.xml"),
        ],
        "time_zone": event.time_zone,
    }
    return render(request, "voting/organize_schedule.html", context)
