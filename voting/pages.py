"""Attendee pages: thin views that hand data to templates (JS reads it via json_script)."""

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from .api import join_rate_limited, set_attendee_cookie
from .errors import UnconfError, error_body
from .identity import ATTENDEE_COOKIE, attendee_from_token
from .models import Badge, Event, IdentityMode, normalize_code
from .serializers import EventSerializer


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


def _event_by_code(code: str) -> tuple[Event | None, str]:
    """An event code, or a badge code (which names its event too)."""
    normalized = normalize_code(code)
    if not normalized:
        return None, normalized
    event = Event.objects.filter(join_code=normalized).first()
    if event is None:
        badge = Badge.objects.select_related("event").filter(code=normalized).first()
        event = badge.event if badge else None
    return event, normalized


def home(request):
    """Enter an event code (or a badge code) and land in the event."""
    code = request.GET.get("code", "")
    error = None
    if code:
        event, normalized = _event_by_code(code)
        if event is not None:
            return HttpResponseRedirect(f"{reverse('join-page', args=[event.slug])}?code={normalized}")
        error = _("No event has that code. Check the code on the screen and try again.")
    return render(request, "voting/home.html", {"code": code, "error": error}, status=400 if error else 200)


def join_page(request, slug):
    """The QR target: joins with the code in the link, then opens the event."""
    event = get_object_or_404(Event, slug=slug)
    code = request.GET.get("code", "") or request.POST.get("code", "")
    display_name = request.POST.get("display_name", "")
    current = attendee_from_token(event, request.COOKIES.get(ATTENDEE_COOKIE, ""))
    event_url = reverse("event", args=[slug])
    # Already joined on this phone: an open-event code changes nothing; a badge code moves it.
    if current is not None and (event.identity_mode == IdentityMode.OPEN or not code):
        return HttpResponseRedirect(event_url)
    error = None
    if code:
        try:
            _attendee, token = join_rate_limited(request, event, code, display_name)
        except UnconfError as refusal:
            error = refusal.detail
        else:
            response = HttpResponseRedirect(event_url)
            set_attendee_cookie(request, response, token)
            return response
    context = {"event": event, "code": code, "error": error, "badge_mode": event.identity_mode == "badge"}
    return render(request, "voting/join.html", context, status=403 if error else 200)


def _event_context(request, event: Event) -> dict:
    attendee = attendee_from_token(event, request.COOKIES.get(ATTENDEE_COOKIE, ""))
    return {
        "event": event,
        "attendee": attendee,
        "page_data": {
            "slug": event.slug,
            "event": EventSerializer(event).data,
            "joined": attendee is not None,
            "join_url": request.build_absolute_uri(reverse("join-page", args=[event.slug])),
        },
    }


def event_page(request, slug):
    """The attendee's app: propose, vote, live ranking, my schedule."""
    event = get_object_or_404(Event, slug=slug)
    context = _event_context(request, event)
    if context["attendee"] is None:
        return HttpResponseRedirect(reverse("join-page", args=[slug]))
    return render(request, "voting/event.html", context)


def schedule_page(request, slug):
    """The published schedule; an attendee's own picks highlighted."""
    event = get_object_or_404(Event, slug=slug)
    context = _event_context(request, event)
    if not (event.schedule_published or event.is_organizer(request.user)):
        return render(request, "voting/schedule_unpublished.html", context, status=404)
    return render(request, "voting/schedule.html", context)
