"""Stage (projector) and organizer console pages: thin views, the live state comes from the feed.

Who may see what: the stage is public (it is on the projector anyway); the console and the
badge sheet are for the event's organizers. Anonymous visitors are sent to the login page,
signed-in people who do not organize the event get a 403 page that says why.
"""

import io
from urllib.parse import urlencode

import segno
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie

from voting.events.models import (
    Badge,
    BadgeStatus,
    Event,
    IdentityMode,
    Moderation,
    Round,
    StageView,
    TallyVisibility,
    normalize_code,
)
from voting.events.rounds import round_dict
from voting.events.serializers import EventSerializer

# Label layouts of the printable badge sheet: (columns, rows) per page.
BADGE_LAYOUTS = {"a4": (3, 8), "letter": (2, 5)}
QR_CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def join_url(request, event: Event, code: str | None = None) -> str:
    """The QR target, absolute from the request's host; open events carry their event code."""
    if code is None and event.identity_mode == IdentityMode.OPEN:
        code = event.join_code
    path = reverse("join-page", args=[event.slug])
    if code:
        path += "?" + urlencode({"code": code})
    return request.build_absolute_uri(path)


def _qr(url: str) -> segno.QRCode:
    # Medium error correction (raised when it fits) survives a dusty projector lens.
    return segno.make(url, error="m", boost_error=True)


# Every sentence the stage script shows, translated per request and handed to stage.js in
# page_data (the same way the phone gets PHONE_STRINGS). Keys ending in _one/_other are plural
# forms the script picks with Intl.PluralRules; {placeholders} are filled in by the script.
STAGE_STRINGS = {
    "connecting": _("Connecting…"),
    "live": _("Live"),
    "reconnecting": _("Reconnecting…"),
    "gone": _("This event no longer exists"),
    "forbidden": _("This board may not show the event"),
    "propose_now": _("Propose now"),
    "vote_now": _("Vote now"),
    "closes_in": _("Voting closes in {clock}"),
    "voting_closed": _("Voting closed"),
    "results": _("Results"),
    "schedule": _("Schedule"),
    "now_next": _("Now and next"),
    "announcement": _("Announcement"),
    "join": _("Join"),
    "ends_in": _("ends in {clock}"),
    "starts_in": _("{time} · starts in {clock}"),
    "starts_at": _("at {time}"),
    "until": _("until {time}"),
    "nothing_now": _("No session is running. See the schedule on your phone."),
    "checked_in": _("{n} here"),
    "scan_vote": _("Scan to propose and vote"),
    "scan_results": _("Scan to see the results"),
    "scan_schedule": _("Scan for your schedule"),
    "qr_lead": _("Join on your phone: scan the code or open"),
    "cut_line": _("Cut line: the top {n} get a room"),
    "cut_tie": _("Cut line: the top {n} get a room · tie at the line, the earlier proposal goes first"),
    "tie_note": _("= tied: same dots, same number of voters"),
    "opens_soon": _("Voting opens soon"),
    "dots_word_one": _("dot"),
    "dots_word_other": _("dots"),
    "voters_one": _("{n} person"),
    "voters_other": _("{n} people"),
    "people_voted_one": _("person voted"),
    "people_voted_other": _("people voted"),
    "voted_of_one": _("{v} of {a} person voted"),
    "voted_of_other": _("{v} of {a} people voted"),
    "dots_of": _("{c} of {t} dots spent"),
    "joined_one": _("{n} person joined"),
    "joined_other": _("{n} people joined"),
    "voted_short_one": _("{n} person voted"),
    "voted_short_other": _("{n} people voted"),
    "meter_open": _("Counts stay hidden until the results are revealed."),
    "meter_closed": _("Voting is closed. The results are coming up…"),
    "more_one": _("+ {n} more proposal"),
    "more_other": _("+ {n} more proposals"),
    "no_proposals": _("No proposals yet. Scan the code and be the first!"),
    "proposals_so_far_one": _("{n} proposal so far"),
    "proposals_so_far_other": _("{n} proposals so far"),
    "schedule_foot": _("Your own picks are highlighted on your phone · {host}"),
    "later_slots_one": _("+ {n} later slot · full schedule on your phone"),
    "later_slots_other": _("+ {n} later slots · full schedule on your phone"),
    "now": _("now"),
}


# The organizer console's script sentences (console.js, console-live.js), the same way.
CONSOLE_STRINGS = {
    "connecting": _("Connecting…"),
    "live": _("Live"),
    "reconnecting": _("Reconnecting…"),
    "gone": _("Event deleted"),
    "forbidden": _("No access"),
    "phase_propose": _("Proposals are open"),
    "phase_waiting": _("Waiting to open voting"),
    "phase_vote": _("Voting is open"),
    "phase_vote_until": _("Voting is open · closes in {clock}"),
    "phase_closed": _("Voting is closed"),
    "phase_results": _("Results are out"),
    "phase_schedule": _("The schedule is published"),
    "next_open_voting": _("Next: open voting once the proposals are in."),
    "next_close_voting": _("Next: close voting (or let the deadline close it)."),
    "next_reveal": _("Next: reveal the results."),
    "next_schedule": _("Next: build and publish the schedule."),
    "next_schedule_link": _("Build the schedule"),
    "next_proceedings": _("Next: during the sessions, watch the rooms; afterwards, publish the proceedings."),
    "next_proceedings_link": _("Sessions and proceedings"),
    "next_done": _("The proceedings are published."),
    "next_done_link": _("See the proceedings"),
    "no_deadline": _("No deadline: voting stays open until you close it."),
    "deadline": _("Closes at {time} (in {clock})"),
    "deadline_passed": _("Closed at {time}"),
    "reveal_live": _("Counts are live for everyone: nothing to reveal."),
    "reveal_done": _("The results have been revealed."),
    "reveal_hidden": _("Counts are hidden from attendees and the stage until you reveal them."),
    "stat_hint": _("{pct} % of the people who joined have voted."),
    "stat_empty": _("Nobody has joined yet. Put the stage on the projector."),
    "empty_pending": _("Nothing waiting for approval."),
    "empty_published": _("No proposals yet."),
    "empty_hidden": _("No hidden proposals."),
    "empty_merged": _("No merged proposals."),
    "approve": _("Approve"),
    "show_again": _("Show again"),
    "hide": _("Hide"),
    "edit": _("Edit"),
    "merge": _("Merge…"),
    "by_host": _("by {host}"),
    "organizer_added": _("added by organizers"),
    "merged_into": _("merged into “{title}”"),
    "status_pending": _("waiting"),
    "status_published": _("published"),
    "status_hidden": _("hidden"),
    "status_merged": _("merged"),
    "close_voting_title": _("Close voting now?"),
    "close_voting_body": _("Votes that arrive after this moment are refused. You can reopen voting later."),
    "close_voting": _("Close voting"),
    "reveal_title": _("Reveal the results?"),
    "reveal_body": _(
        "Everyone sees the counts: the stage plays the reveal and phones show the ranking. "
        "This cannot be taken back."
    ),
    "reveal": _("Reveal results"),
    "hide_title": _("Hide “{title}”?"),
    "hide_body_one": _("Its {n} dot goes back to {people}. Showing it again does not bring the dots back."),
    "hide_body_other": _("Its {n} dots go back to {people}. Showing it again does not bring the dots back."),
    "people_one": _("{n} person"),
    "people_other": _("{n} people"),
    "hide_and_refund": _("Hide and refund"),
    "revoke_title": _("Revoke badge {code}?"),
    "revoke_body": _(
        "It stops working at once and signs out the phone that uses it. Votes already cast stay."
    ),
    "revoke": _("Revoke"),
    "reissue_title": _("Reissue badge {code}?"),
    "reissue_body": _(
        "The old code stops working and its phone is signed out. "
        "The new code is the same attendee with the same votes."
    ),
    "reissue": _("Reissue"),
    "remove_self_title": _("Remove yourself?"),
    "remove_self_body": _("You will no longer be able to open this console."),
    "remove_me": _("Remove me"),
    "merge_dots_one": _("{n} dot moves to “{title}”."),
    "merge_dots_other": _("{n} dots move to “{title}”."),
    "merge_voters_one": _("{n} voter moves over; {shared} already voted for both."),
    "merge_voters_other": _("{n} voters move over; {shared} already voted for both."),
    "merge_refunded_one": _("{n} dot is refunded (over the per-proposal cap)."),
    "merge_refunded_other": _("{n} dots are refunded (over the per-proposal cap)."),
    "merge_no_refund": _("No dots are refunded."),
    "merge_no_target": _("There is no other published proposal to merge into."),
    "counting": _("Counting…"),
    "merged_toast": _("“{a}” merged into “{b}”."),
    "settings_saved": _("Settings saved."),
    "proposal_added": _("Proposal added."),
    "badges_generated_one": _("{n} badge code generated."),
    "badges_generated_other": _("{n} badge codes generated."),
    "badge_stats_one": _("{total} badge · {unused} unused · {redeemed} redeemed · {revoked} revoked"),
    "badge_stats_other": _("{total} badges · {unused} unused · {redeemed} redeemed · {revoked} revoked"),
    "badge_mode_open": _(
        "This event is open: anyone with the event code joins. "
        "Switch “Who may join” to Badge to require badge codes."
    ),
    "badge_mode_badge": _("Attendees join with their own badge code."),
    "badge_not_found": _("No badge with that code or attendee id in this event."),
    "badge_attendee": _("Attendee {id}"),
    "badge_revoked": _("Badge {code} revoked."),
    "you": _("(you)"),
    "not_staff": _("not staff: can use the API but not sign in here"),
    "organizer_add": _("{name} is now a co-organizer."),
    "organizer_removed": _("{name} removed."),
    "remove": _("Remove"),
    "no_stage": _("No stage connected"),
    "stages_connected_one": _("{n} stage connected"),
    "stages_connected_other": _("{n} stages connected"),
    "over_capacity": _("Over capacity"),
    "move_to": _("Move to {room}"),
    "swap_with": _("Swap with “{title}” in {room}"),
    "no_room": _("No bigger room is free or emptier in this slot."),
    "moved": _("“{title}” is now in {room}; every screen shows it."),
    "stage_set": _("The stage shows it now."),
    "proceedings_off": _("Not published: only organizers can read the proceedings."),
    "proceedings_on": _("Published: everyone can read the proceedings."),
    "publish_proceedings": _("Publish the proceedings"),
    "unpublish_proceedings": _("Take the proceedings back"),
    "round_current": _("current"),
    "round_ended": _("ended"),
    "round_prepared": _("prepared, not started"),
    "round_start": _("Start"),
    "round_start_title": _("Start “{name}” now?"),
    "round_start_body": _(
        "Voting and proposals of “{current}” close at once. Every attendee gets a fresh budget of dots. "
        "Proposals not yet scheduled carry over with zero dots. The results and the schedule of "
        "“{current}” stay as they are. Voting in “{name}” stays closed until you open it."
    ),
    "round_start_ok": _("Close “{current}” and start"),
    "round_started": _("“{name}” has started. Open voting once the proposals are in."),
    "round_created": _("“{name}” is prepared. Start it when “{current}” is over."),
}


def stage(request, slug):
    """Full-screen live board for the projector: anyone may open it."""
    event = get_object_or_404(Event, slug=slug)
    url = join_url(request, event)
    badge_mode = event.identity_mode == IdentityMode.BADGE
    page_data = {
        "slug": event.slug,
        "name": event.name,
        "join_url": url,
        "host": request.get_host(),
        "code": "" if badge_mode else event.join_code,
        "badge_mode": badge_mode,
        "strings": {key: str(text) for key, text in STAGE_STRINGS.items()},
    }
    context = {
        "event": event,
        "join_url": url,
        "host": request.get_host(),
        "badge_mode": badge_mode,
        # A PNG scaled up with pixelated rendering stays razor-sharp on any projector.
        "qr_src": _qr(url).png_data_uri(scale=8, border=4),
        "page_data": page_data,
    }
    return render(request, "voting/stage.html", context)


def join_qr(request, slug, fmt):
    """The stage's QR code as a file, for slides and posters (PNG or SVG)."""
    event = get_object_or_404(Event, slug=slug)
    if fmt not in QR_CONTENT_TYPES:
        raise Http404
    buffer = io.BytesIO()
    _qr(join_url(request, event)).save(buffer, kind=fmt, scale=20 if fmt == "png" else 10, border=4)
    response = HttpResponse(buffer.getvalue(), content_type=QR_CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'inline; filename="{event.slug}-join.{fmt}"'
    return response


def _choices() -> dict:
    return {
        "identity_choices": IdentityMode.choices,
        "visibility_choices": TallyVisibility.choices,
        "moderation_choices": Moderation.choices,
        "stage_view_choices": StageView.choices,
    }


def _refuse(request, event: Event | None):
    """None when the user organizes the event (or may create events); else the response to send."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    allowed = event.is_organizer(request.user) if event else request.user.is_staff
    if allowed:
        return None
    context = {"event": event, "username": request.user.get_username()}
    return render(request, "voting/console_forbidden.html", context, status=403)


@ensure_csrf_cookie
def events(request):
    """The organizer's start page: the events they organize and a form to create one."""
    refusal = _refuse(request, None)
    if refusal:
        return refusal
    user = request.user
    organized = Event.objects.all() if user.is_superuser else user.organized_events.all()
    return render(request, "voting/organize_events.html", {"events": organized, **_choices()})


@ensure_csrf_cookie
def organize(request, slug):
    """The console: settings, phases, live counts, moderation, merge, badges, exports."""
    event = get_object_or_404(Event, slug=slug)
    refusal = _refuse(request, event)
    if refusal:
        return refusal
    rounds = list(Round.objects.filter(event=event))
    page_data = {
        "slug": event.slug,
        "event": EventSerializer(event, context={"is_organizer": True}).data,
        "username": request.user.get_username(),
        "join_url": join_url(request, event),
        "rounds": [round_dict(r) for r in rounds],
        "strings": {key: str(text) for key, text in CONSOLE_STRINGS.items()},
    }
    context = {
        "event": event,
        "rounds": rounds,
        "started_rounds": [r for r in rounds if r.started_at],
        "current_round": next((r for r in rounds if r.is_current(event)), None),
        "page_data": page_data,
        **_choices(),
    }
    return render(request, "voting/organize.html", context)


def badge_sheet(request, slug):
    """Printable badges: one QR code and code per label (A4 3×8 or Letter 2×5 label sheets).

    `?code=X` prints one badge (a reissued one at the help desk); `?status=unused` leaves out
    badges already in use. Revoked badges are never printed.
    """
    event = get_object_or_404(Event, slug=slug)
    refusal = _refuse(request, event)
    if refusal:
        return refusal
    layout = request.GET.get("layout", "a4")
    if layout not in BADGE_LAYOUTS:
        layout = "a4"
    badges = Badge.objects.filter(event=event).exclude(status=BadgeStatus.REVOKED)
    if request.GET.get("code"):
        badges = badges.filter(code=normalize_code(request.GET["code"]))
    if request.GET.get("status") in (BadgeStatus.UNUSED, BadgeStatus.REDEEMED):
        badges = badges.filter(status=request.GET["status"])
    columns, rows = BADGE_LAYOUTS[layout]
    per_page = columns * rows
    labels = [
        {
            "code": badge.code,
            "spaced": " ".join(badge.code[i : i + 4] for i in range(0, len(badge.code), 4)),
            "qr": _qr(join_url(request, event, badge.code)).svg_data_uri(border=1, omitsize=True),
        }
        for badge in badges
    ]
    pages = [labels[i : i + per_page] for i in range(0, len(labels), per_page)]
    context = {
        "event": event,
        "pages": pages,
        "count": len(labels),
        "layout": layout,
        "host": request.get_host(),
        "filters": request.GET.urlencode(),
    }
    return render(request, "voting/badges.html", context)
