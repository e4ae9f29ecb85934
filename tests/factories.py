"""Builders for test data through the same services the product uses."""

import itertools

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from voting.events import services as event_services
from voting.models import Event, Proposal
from voting.proposals import services as proposal_services

_seq = itertools.count(1)


def make_organizer(username: str | None = None, *, staff: bool = True) -> User:
    username = username or f"organizer{next(_seq)}"
    return User.objects.create_user(username, password="correct horse battery", is_staff=staff)


def organizer_client(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def make_event(organizer: User | None = None, **fields) -> Event:
    organizer = organizer or make_organizer()
    fields.setdefault("slug", f"event-{next(_seq)}")
    fields.setdefault("name", "Test Unconference")
    fields.setdefault("voting_open", True)
    return event_services.create_event(creator=organizer, **fields)


def join(event: Event, name: str = "") -> tuple:
    """An attendee and an API client that speaks for them with the Attendee token."""
    attendee, token = event_services.join_event(event=event, code=event.join_code, display_name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Attendee {token}")
    return attendee, client, token


def make_proposals(event: Event, count: int, **fields) -> list[Proposal]:
    return [
        proposal_services.submit_proposal(
            event=event, author=None, title=f"Session number {next(_seq)}", **fields
        )
        for _ in range(count)
    ]
