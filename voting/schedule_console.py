"""The organizer's schedule console page: rooms, slots, generate, clashes, move, pin, publish.

A thin view: the page's module (`static/voting/schedule-console.js`) does everything through
the schedule API and follows the live feed. Anonymous visitors are sent to the login page;
signed-in people who do not organize the event get a 403 page that says why.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from .models import Event


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
    }
    context = {
        "event": event,
        "page_data": page_data,
        "exports": [
            ("schedule.json", f"{api}/schedule.json"),
            ("schedule.ics", f"{api}/schedule.ics"),
            ("schedule.xml", f"{api}/schedule.xml"),
        ],
        "time_zone": event.time_zone,
    }
    return render(request, "voting/organize_schedule.html", context)
