"""The public proceedings page (contract 2 and 5.2) and its link-preview image."""

from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from voting.day import proceedings
from voting.events.models import Event

PREVIEW_IMAGE = "voting/proceedings-preview.png"


def proceedings_page(request, slug):
    """Every session with its notes, once the organizers publish them (organizers: always)."""
    event = get_object_or_404(Event, slug=slug)
    organizer = event.is_organizer(request.user)
    if not (event.proceedings_published or organizer):
        return render(request, "voting/proceedings_unpublished.html", {"event": event}, status=404)
    rows = proceedings.with_html(proceedings.sessions(event, show_counts=organizer or event.counts_public()))
    context = {
        "event": event,
        "sessions": rows,
        "draft": not event.proceedings_published,
        "page_url": request.build_absolute_uri(reverse("proceedings-page", args=[slug])),
        "image_url": request.build_absolute_uri(reverse("proceedings-image", args=[slug])),
        "with_notes": sum(bool(row["notes"].strip()) for row in rows),
    }
    return render(request, "voting/proceedings.html", context)


def proceedings_image(request, slug):
    """The link-preview image (1200×630, what chat apps and social sites show)."""
    get_object_or_404(Event, slug=slug)
    response = HttpResponse(Path(finders.find(PREVIEW_IMAGE)).read_bytes(), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response
