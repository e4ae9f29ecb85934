"""Create (once) a demo event and an organizer login, and print where to open Unconf."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from voting.events import services as event_services
from voting.events.models import Event
from voting.proposals import services as proposal_services

SAMPLE_PROPOSALS = [
    ("Serving LLMs on a budget", "What actually worked for us below 1k USD a month.", "Priya"),
    ("Reproducible research with Nix", "Pin everything, from CUDA to your plots.", "Jonas"),
    ("Evaluating RAG without fooling yourself", "", "Mei"),
    ("Rust in the ML stack", "Where it pays off and where it doesn't.", "Tomás"),
]


class Command(BaseCommand):
    help = "Create the demo event and an organizer login (once), then print the URLs."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--slug", default="demo")

    def handle(self, *args, base_url, slug, **options):
        User = get_user_model()
        password = None
        organizer = User.objects.filter(username="organizer").first()
        if organizer is None:
            password = secrets.token_urlsafe(12)
            organizer = User.objects.create_superuser("organizer", "organizer@localhost", password)
        event = Event.objects.filter(slug=slug).first()
        if event is None:
            event = event_services.create_event(
                creator=organizer, slug=slug, name="Demo Unconference", voting_open=True
            )
            for title, description, host in SAMPLE_PROPOSALS:
                proposal_services.submit_proposal(
                    event=event, author=None, title=title, description=description, host_name=host
                )
        base = base_url.rstrip("/")
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"Unconf is running — event “{event.name}”, code {event.join_code}")
        )
        self.stdout.write(f"  Phone (scan or open): {base}/e/{event.slug}/join?code={event.join_code}")
        self.stdout.write(f"  Stage (projector):    {base}/e/{event.slug}/stage/")
        self.stdout.write(f"  Organizer console:    {base}/e/{event.slug}/organize/")
        self.stdout.write(f"  API docs:             {base}/api/docs/")
        if password:
            self.stdout.write(self.style.WARNING(f"  Organizer login (shown once): organizer / {password}"))
        else:
            self.stdout.write(
                "  Organizer login: 'organizer' (reset: python manage.py changepassword organizer)"
            )
        self.stdout.write("")
