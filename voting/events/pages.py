"""Attendee pages: thin views that hand data to templates (JS reads it via json_script).

The phone app itself is `templates/voting/event.html` + `static/voting/phone.js`; every string
it shows is defined here (translatable) and handed to the page, so the JS holds no English.
"""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from voting.core import ratelimit
from voting.core.errors import RateLimited, UnconfError, error_body
from voting.events.api import join_rate_limited, set_attendee_cookie
from voting.events.identity import ATTENDEE_COOKIE, attendee_from_token, client_address
from voting.events.models import Badge, BadgeStatus, Event, IdentityMode, normalize_code
from voting.events.serializers import EventSerializer

# Static files the phone needs to start; the service worker keeps a copy for offline reloads.

PHONE_ASSETS = (
    "voting/tokens.css",
    "voting/app.css",
    "voting/phone.js",
    "voting/api.js",
    "voting/dom.js",
    "voting/i18n.js",
    "voting/phone-list.js",
    "voting/phone-votes.js",
    "voting/phone-schedule.js",
    "voting/rank.js",
    "voting/feed.js",
)
# Not on the first load: phone-propose.js and phone-hosting.js load with the Propose tab,
# phone-live.js once a schedule is published, phone-rounds.js once the event has run several
# rounds. The service worker keeps them for offline reloads all the same.
PHONE_LATER_ASSETS = (
    "voting/phone-propose.js",
    "voting/phone-live.js",
    "voting/phone-live.css",
    "voting/phone-hosting.js",
    "voting/phone-hosting.css",
    "voting/phone-rounds.js",
)

# Every sentence phone.js shows, keyed by name. `{name}` placeholders are filled in by the JS.
PHONE_STRINGS = {
    "live": gettext_lazy("Live"),
    "connecting": gettext_lazy("Connecting…"),
    "reconnecting": gettext_lazy("Reconnecting…"),
    "offline": gettext_lazy("Offline"),
    "gone": gettext_lazy("This event no longer exists."),
    "loading": gettext_lazy("Loading proposals…"),
    "empty": gettext_lazy("No proposals yet. Be the first: tap Propose."),
    "no_match": gettext_lazy("No proposal matches your search."),
    "by_host": gettext_lazy("by {name}"),
    "yours": gettext_lazy("Your proposal"),
    "new": gettext_lazy("New"),
    "more": gettext_lazy("Show more"),
    "less": gettext_lazy("Show less"),
    "dots_one": gettext_lazy("{n} dot"),
    "dots_other": gettext_lazy("{n} dots"),
    "voters_one": gettext_lazy("{n} person"),
    "voters_other": gettext_lazy("{n} people"),
    "rank": gettext_lazy("Rank {n}"),
    "rank_tied": gettext_lazy("Rank {n}, tied"),
    "vote": gettext_lazy("Vote"),
    "voted": gettext_lazy("Voted"),
    "vote_for": gettext_lazy("Vote for “{title}”"),
    "voted_for": gettext_lazy("Voted for “{title}”"),
    "add_dot": gettext_lazy("Add a dot to “{title}”"),
    "remove_dot": gettext_lazy("Take a dot back from “{title}”"),
    "your_dots": gettext_lazy("Your dots on “{title}”"),
    "dots_left": gettext_lazy("{n} of {budget} dots left"),
    "budget_spent": gettext_lazy("All your dots are placed. Take one back to move it."),
    "cap_reached": gettext_lazy("That is the most dots one proposal can take."),
    "voting_closed": gettext_lazy("Voting is closed."),
    "voting_not_open": gettext_lazy("Voting has not opened yet. Propose sessions meanwhile."),
    "closes_in": gettext_lazy("Closes in {time}"),
    "results_blind": gettext_lazy("Counts stay hidden until the organizers reveal the results."),
    "participation": gettext_lazy("Voted so far: {voters} of {attendees}"),
    "pending": gettext_lazy("Pending: will be sent when you are back online"),
    "saving": gettext_lazy("Saving…"),
    "saved": gettext_lazy("Saved"),
    "pending_count_one": gettext_lazy("{n} vote waiting for the connection"),
    "pending_count_other": gettext_lazy("{n} votes waiting for the connection"),
    "refused": gettext_lazy("Not saved: {reason}"),
    # proposing
    "similar_intro": gettext_lazy("Looks like an existing proposal. Vote for it instead?"),
    "proposed": gettext_lazy("Proposed! It is on the list."),
    "proposed_pending": gettext_lazy("Sent! It appears once an organizer approves it."),
    "saved_edit": gettext_lazy("Changes saved."),
    "withdrawn": gettext_lazy("Proposal withdrawn. Its dots went back to the voters."),
    "edit": gettext_lazy("Edit"),
    "edit_title": gettext_lazy("Edit your proposal"),
    "propose_title": gettext_lazy("Propose a session"),
    "save_changes": gettext_lazy("Save changes"),
    "submit": gettext_lazy("Propose session"),
    "withdraw": gettext_lazy("Withdraw"),
    "withdraw_confirm": gettext_lazy("Withdraw “{title}”? Every dot on it goes back to its voter."),
    "proposals_closed": gettext_lazy("Proposals are closed."),
    "status_published": gettext_lazy("On the list"),
    "status_pending": gettext_lazy("Waiting for approval"),
    "status_hidden": gettext_lazy("Hidden by the organizers"),
    "status_merged": gettext_lazy("Merged into another proposal"),
    "chars": gettext_lazy("{n}/{max}"),
    "title_short": gettext_lazy("A title needs at least 3 characters."),
    "title_long": gettext_lazy("A title can have at most 120 characters."),
    "network_error": gettext_lazy("No connection. Try again when you are back online."),
    "error": gettext_lazy("Something went wrong. Try again."),
    # schedule
    "schedule_wait": gettext_lazy(
        "Your schedule appears here once the organizers publish it. "
        "The sessions you put dots on become your picks."
    ),
    "no_picks": gettext_lazy("You did not vote for any scheduled session. See the full schedule."),
    "clash": gettext_lazy("Clash: {n} of your picks run at the same time. Choose one."),
    "clash_tag": gettext_lazy("Clash"),
    "unscheduled": gettext_lazy("Not in the schedule: {titles}"),
    "time_range": gettext_lazy("{start}–{end}"),
    # hosting (co-hosts, when I can't host)
    "hosting": gettext_lazy("Hosting"),
    "cohosts": gettext_lazy("Hosts: you and {n} more"),
    "invite": gettext_lazy("Invite a co-host"),
    "invite_link": gettext_lazy("Send this link to your co-host. It works once."),
    "copy": gettext_lazy("Copy link"),
    "copied": gettext_lazy("Link copied."),
    "cohost_joined": gettext_lazy("You now co-host “{title}”."),
    "cohost_invalid": gettext_lazy("That co-host link is not valid any more. Ask for a new one."),
    "cohost_cap": gettext_lazy("That session already has as many co-hosts as allowed."),
    "cohost_already": gettext_lazy("You already host “{title}”."),
    "cant_host": gettext_lazy("I can’t host then"),
    "cant_host_hint": gettext_lazy(
        "Tick the slots when you can’t run a session; yours will be placed elsewhere."
    ),
    "availability_saved": gettext_lazy("Saved: your sessions stay out of the slots you ticked."),
    # during the sessions
    "next_for_you": gettext_lazy("Next for you"),
    "you_are_in": gettext_lazy("You are in"),
    "running_now": gettext_lazy("now"),
    "starts_in": gettext_lazy("in {n} min"),
    "all_sessions": gettext_lazy("All sessions: star any, check in where you are"),
    "star": gettext_lazy("Star"),
    "starred": gettext_lazy("Starred"),
    "star_for": gettext_lazy("Star “{title}”"),
    "unstar_for": gettext_lazy("Remove the star from “{title}”"),
    "check_in": gettext_lazy("I’m here"),
    "checked_in": gettext_lazy("You’re here ✓"),
    "check_in_for": gettext_lazy("Check in to “{title}”"),
    "leave_for": gettext_lazy("Leave “{title}”"),
    "checked_in_toast": gettext_lazy("Checked in to “{title}”."),
    "here_count": gettext_lazy("{n} here"),
    "notes": gettext_lazy("Notes"),
    "notes_for": gettext_lazy("Notes: {title}"),
    "notes_placeholder": gettext_lazy("What was said, decided, linked… (Markdown)"),
    "notes_hint": gettext_lazy("Everyone in the session can edit these. They go into the proceedings."),
    "notes_empty": gettext_lazy("No notes yet: start them."),
    "notes_saved": gettext_lazy("Revision {n}, saved at {time}"),
    "notes_saved_toast": gettext_lazy("Notes saved."),
    "notes_conflict": gettext_lazy(
        "Someone saved these notes meanwhile: their version is in the box above. "
        "Your text is below, to merge by hand."
    ),
    "notes_yours": gettext_lazy("Your text (not saved)"),
    "loading_notes": gettext_lazy("Loading the notes…"),
    "save_notes": gettext_lazy("Save notes"),
    "merged_into": gettext_lazy("Merged into “{title}”"),
}


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(error_body("Something went wrong on our side.", "server_error"), status=500)
    return render(request, "500.html", status=500)


def _event_by_code(code: str) -> Event | None:
    """An event code, or a badge code (which names its event too)."""
    if not code:
        return None
    event = Event.objects.filter(join_code=code).first()
    if event is None:
        badge = Badge.objects.select_related("event").filter(code=code).first()
        event = badge.event if badge else None
    return event


@ensure_csrf_cookie
def home(request):
    """Enter an event code (or a badge code) and land in the event."""
    code = normalize_code(request.GET.get("code", ""))[:64]
    error, status = None, 200
    if code:
        address = client_address(request)
        event = _event_by_code(code)
        try:
            # Wrong codes are limited per address here (no event is known yet); an open event's
            # code is on the projector anyway, so it is never refused for earlier wrong ones.
            if event is None or code != normalize_code(event.join_code) or event.identity_mode != "open":
                ratelimit.refuse_if_guessing(address)
            if event is None:
                ratelimit.count_wrong_code(address)
        except RateLimited:
            event = None
            error, status = _("Too many wrong codes. Wait a few minutes and try again."), 429
        if event is not None:
            return HttpResponseRedirect(f"{reverse('join-page', args=[event.slug])}?code={code}")
        if error is None:
            error, status = _("No event has that code. Check the code on the screen and try again."), 400
    return render(request, "voting/home.html", {"code": code, "error": error}, status=status)


def _refusal_message(event: Event, code: str, refusal: UnconfError) -> str:
    if refusal.code == "invalid_code":
        if Badge.objects.filter(event=event, code=code, status=BadgeStatus.REVOKED).exists():
            return _("This badge was revoked. Ask at the help desk for a new one.")
        if event.identity_mode == IdentityMode.BADGE:
            return _("That badge code is not valid for this event. Check it and try again.")
        return _("That code is not valid for this event. Check the code on the screen and try again.")
    return refusal.detail


@never_cache
@ensure_csrf_cookie
def join_page(request, slug):
    """The QR target: joins with the code in the link, then opens the event.

    Open events join at once with the event code. Badge events ask for the badge code (a
    badge's own QR code carries it); the projected event code alone is not enough there.
    """
    event = get_object_or_404(Event, slug=slug)
    code = normalize_code(request.POST.get("code", "") or request.GET.get("code", ""))[:64]
    display_name = request.POST.get("display_name", "").strip()[:80]
    current = attendee_from_token(event, request.COOKIES.get(ATTENDEE_COOKIE, ""))
    event_url = reverse("event", args=[slug])
    badge_mode = event.identity_mode == IdentityMode.BADGE
    is_event_code = code == normalize_code(event.join_code)
    # Already joined on this phone: an event code changes nothing; only a badge code moves it.
    if current is not None and (not badge_mode or not code or is_event_code):
        return HttpResponseRedirect(event_url)
    if badge_mode and is_event_code:
        code = ""  # the projected QR in a badge event: ask for the badge code, no error
    error, status = None, 200
    if code and badge_mode and request.method != "POST":
        # Link previewers, mail scanners and QR apps fetch links too: a GET never redeems a badge
        # (which would sign out the phone holding it). The page asks for one tap, which POSTs.
        context = {"event": event, "code": code, "display_name": "", "error": None, "badge_mode": True}
        return render(request, "voting/join.html", {**context, "confirm_badge": True})
    if code:
        try:
            _attendee, token = join_rate_limited(request, event, code, display_name)
        except UnconfError as refusal:
            error, status = _refusal_message(event, code, refusal), refusal.status_code
        else:
            response = HttpResponseRedirect(event_url)
            set_attendee_cookie(request, response, token)
            return response
    context = {
        "event": event,
        "code": code,
        "display_name": display_name,
        "error": error,
        "badge_mode": badge_mode,
    }
    return render(request, "voting/join.html", context, status=status)


def _page_data(event: Event, attendee) -> dict:
    """What phone.js needs to start: no secrets (the join code is for organizers only)."""
    return {
        "slug": event.slug,
        "event": EventSerializer(event).data,
        "attendee": attendee.public_id,
        "display_name": attendee.display_name,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "time_zone": event.time_zone,  # times on the phone in the event's zone, whatever the device's
        "checkin_early_minutes": settings.UNCONF_CHECKIN_EARLY_MINUTES,
        "notes_max_chars": settings.UNCONF_NOTES_MAX_CHARS,
        "worker_url": reverse("phone-worker", args=[event.slug]),
        "assets": [static(path) for path in PHONE_ASSETS + PHONE_LATER_ASSETS],
        "strings": {key: str(text) for key, text in PHONE_STRINGS.items()},
    }


@never_cache
@ensure_csrf_cookie
def event_page(request, slug):
    """The attendee's app: propose, vote, live ranking, my schedule."""
    event = get_object_or_404(Event, slug=slug)
    attendee = attendee_from_token(event, request.COOKIES.get(ATTENDEE_COOKIE, ""))
    if attendee is None:
        return HttpResponseRedirect(reverse("join-page", args=[slug]))
    context = {
        "event": event,
        "attendee": attendee,
        "page_data": _page_data(event, attendee),
        "preload": [static(path) for path in PHONE_ASSETS if path.endswith(".js")],
    }
    return render(request, "voting/event.html", context)


def phone_worker(request, slug):
    """The phone's service worker, served under /e/<slug>/ so that it may control the event page."""
    get_object_or_404(Event, slug=slug)
    with open(finders.find("voting/phone-sw.js"), encoding="utf-8") as source:
        body = source.read()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
