"""Who organizes an event: adding and removing co-organizers.

Rule a caller must know: an event always keeps at least one organizer (superusers organize
every event anyway, but a forgotten event must not become unreachable for its own team).
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from voting.core.errors import Conflict, NotFound
from voting.events.models import Event


def organizers_of(event: Event) -> list:
    return list(event.organizers.order_by("username"))


def add_organizer(*, event: Event, username: str) -> bool:
    """Make the user an organizer of the event; returns False when they already were one."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"There is no active user named “{username}”.")
    with transaction.atomic():
        Event.objects.select_for_update().get(pk=event.pk)
        if event.organizers.filter(pk=user.pk).exists():
            return False
        event.organizers.add(user)
    return True


def remove_organizer(*, event: Event, username: str) -> None:
    """Remove a co-organizer; refuses to remove the last one."""
    with transaction.atomic():
        Event.objects.select_for_update().get(pk=event.pk)  # two removals at once cannot both pass
        user = event.organizers.filter(username=username).first()
        if user is None:
            raise NotFound(f"“{username}” does not organize this event.")
        if event.organizers.count() == 1:
            raise Conflict("An event needs at least one organizer. Add another one first.")
        event.organizers.remove(user)
