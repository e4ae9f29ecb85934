"""Stage (projector) and organizer console pages."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render

from .models import Event


def stage(request, slug):
    """Full-screen live board for the projector: anyone may open it."""
    event = get_object_or_404(Event, slug=slug)
    return render(request, "voting/stage.html", {"event": event})


def _organized_event(request, slug) -> Event | None:
    event = get_object_or_404(Event, slug=slug)
    return event if event.is_organizer(request.user) else None


def organize(request, slug):
    event = _organized_event(request, slug)
    if event is None:
        return redirect_to_login(request.get_full_path())
    return render(request, "voting/organize.html", {"event": event})


def badge_sheet(request, slug):
    event = _organized_event(request, slug)
    if event is None:
        return redirect_to_login(request.get_full_path())
    return render(request, "voting/badges.html", {"event": event})
