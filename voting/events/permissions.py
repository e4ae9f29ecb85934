"""Who may call an event's endpoints, as DRF permission classes (EventScoped resolves the caller
before DRF asks them, and answers a refusal with the contract's 403 `forbidden`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

ONLY_ORGANIZERS = _("Only the event's organizers may do this.")


class Organizers(BasePermission):
    """Every method: the event's organizers only."""

    message = ONLY_ORGANIZERS

    def has_permission(self, request, view) -> bool:
        return view.is_organizer


class OrganizersWrite(BasePermission):
    """Reading is for everyone the view lets in; changing is for the event's organizers."""

    message = ONLY_ORGANIZERS

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or view.is_organizer
