"""REST API of contract 5.2: now/next, stars, check-in, notes, proceedings.

Who may do what: now/next is public (empty lists before the schedule is published); stars
and check-ins are the calling attendee's own; notes are read and written by the session's
host, the attendees checked in to it now or before, and organizers, and read by everyone
once the proceedings are published; the proceedings are for organizers until published.
"""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from voting.core.errors import Forbidden
from voting.day import live, proceedings
from voting.day import services as day_services
from voting.day.models import CheckIn
from voting.events.permissions import Organizers
from voting.events.scope import ERROR, EventScoped


class NowView(EventScoped):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug):
        """The sessions running now and those of the next slot, with rooms and check-ins.

        Organizers also get `occupancy`: each session taking check-ins, against its room's
        capacity, with a suggested bigger room when it overflows.
        """
        answer = live.now_next(self.event)
        if self.is_organizer:
            answer["occupancy"] = live.occupancy(self.event)
        return Response(answer)


class StarsSerializer(serializers.Serializer):
    sessions = serializers.ListField(child=serializers.IntegerField(), max_length=500)


class StarsView(EventScoped):
    @extend_schema(responses={200: StarsSerializer, 401: ERROR})
    def get(self, request, slug):
        """The sessions the caller starred (voter or not): with their votes, "my schedule"."""
        return Response({"sessions": day_services.stars_of(self.require_attendee())})

    @extend_schema(request=StarsSerializer, responses={200: StarsSerializer, 400: ERROR, 401: ERROR})
    def put(self, request, slug):
        """Replace the caller's stars."""
        attendee = self.require_attendee()
        data = StarsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            starred = day_services.set_stars(attendee=attendee, proposal_ids=data.validated_data["sessions"])
        except ValueError as error:
            raise serializers.ValidationError(
                {"sessions": [f"Not sessions of this event: {error.args[0]}"]}
            ) from None
        return Response({"sessions": starred})


class MyCheckInView(EventScoped):
    @extend_schema(
        responses={
            200: inline_serializer("MyCheckIn", {"session": serializers.IntegerField(allow_null=True)})
        }
    )
    def get(self, request, slug):
        """The session the caller is checked in to now (null: none)."""
        return Response({"session": day_services.current_checkin(self.require_attendee())})


CHECKIN = inline_serializer(
    "CheckIn",
    {"session": serializers.IntegerField(allow_null=True), "checked_in": serializers.IntegerField()},
)


class CheckInView(EventScoped):
    def answer(self, proposal_id: int) -> Response:
        here = CheckIn.objects.filter(proposal_id=proposal_id, left_at__isnull=True).count()
        return Response({"session": day_services.current_checkin(self.attendee), "checked_in": here})

    @extend_schema(request=None, responses={200: CHECKIN, 401: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, slug, proposal_id):
        """I am in this session (while it runs, or up to UNCONF_CHECKIN_EARLY_MINUTES before).

        Checking in elsewhere moves the caller. `409 not_running` outside that window,
        `409 not_published` before the schedule is published.
        """
        attendee = self.require_attendee()
        day_services.check_in(event=self.event, attendee=attendee, proposal_id=proposal_id)
        return self.answer(proposal_id)

    @extend_schema(request=None, responses={200: CHECKIN, 401: ERROR, 404: ERROR})
    def delete(self, request, slug, proposal_id):
        """I left this session."""
        attendee = self.require_attendee()
        day_services.check_out(event=self.event, attendee=attendee, proposal_id=proposal_id)
        return self.answer(proposal_id)


class NotesSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)

    def validate_text(self, value):
        limit = settings.UNCONF_NOTES_MAX_CHARS
        if len(value) > limit:
            raise serializers.ValidationError(f"Notes can be at most {limit:,} characters.")
        if "\x00" in value:
            raise serializers.ValidationError("Control characters are not allowed.")
        return value


NOTES = inline_serializer(
    "NotesState",
    {
        "text": serializers.CharField(),
        "revision": serializers.IntegerField(),
        "updated_at": serializers.DateTimeField(allow_null=True),
    },
)


def _if_match(request) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"` → 3; absent → None (last writer wins)."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        raise serializers.ValidationError({"If-Match": ["A notes revision number is expected."]}) from None


class NotesView(EventScoped):
    def session(self):
        return day_services.scheduled_session(self.event, self.kwargs["proposal_id"])

    def notes_response(self, revision) -> Response:
        body = {
            "text": revision.text if revision else "",
            "revision": revision.revision if revision else 0,
            "updated_at": revision.created_at.isoformat() if revision else None,
        }
        return Response(body, headers={"ETag": f'"{body["revision"]}"'})

    @extend_schema(responses={200: NOTES, 403: ERROR, 404: ERROR})
    def get(self, request, slug, proposal_id):
        """The session's notes (Markdown) and their revision number."""
        session = self.session()
        allowed = day_services.may_read_notes(
            event=self.event, session=session, attendee=self.attendee, is_organizer=self.is_organizer
        )
        if not allowed:
            raise Forbidden(
                "The session's hosts, the attendees who checked in to it and organizers read its notes."
            )
        return self.notes_response(day_services.latest_notes(proposal_id))

    @extend_schema(request=NotesSerializer, responses={200: NOTES, 400: ERROR, 403: ERROR, 409: ERROR})
    def put(self, request, slug, proposal_id):
        """Save the notes as a new revision. `If-Match: <revision>`: refused with
        `409 edit_conflict` if someone saved since; without it, the last writer wins."""
        session = self.session()
        day_services.require_writer(session=session, attendee=self.attendee, is_organizer=self.is_organizer)
        data = NotesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        author = (
            self.attendee.public_id
            if self.attendee and not self.is_organizer
            else request.user.get_username()
        )
        revision = day_services.save_notes(
            session=session,
            text=data.validated_data["text"],
            author=author,
            expected_revision=_if_match(request),
        )
        return self.notes_response(revision)


class NoteRevisionsView(EventScoped):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 403: ERROR, 404: ERROR})
    def get(self, request, slug, proposal_id):
        """Every revision of the notes, oldest first, with its author pseudonym and time."""
        session = day_services.scheduled_session(self.event, proposal_id)
        day_services.require_writer(session=session, attendee=self.attendee, is_organizer=self.is_organizer)
        revisions = session.proposal.note_revisions.order_by("revision")
        return Response(
            [
                {
                    "revision": r.revision,
                    "author": r.author,
                    "created_at": r.created_at.isoformat(),
                    "text": r.text,
                }
                for r in revisions
            ]
        )


class ProceedingsPublishView(EventScoped):
    permission_classes = [Organizers]

    @extend_schema(
        request=inline_serializer(
            "ProceedingsPublish", {"published": serializers.BooleanField(required=False)}
        ),
        responses={200: inline_serializer("ProceedingsState", {"published": serializers.BooleanField()})},
    )
    def post(self, request, slug):
        """Publish the proceedings to everyone (`{"published": false}` takes them back)."""
        published = request.data.get("published", True) if isinstance(request.data, dict) else True
        if not isinstance(published, bool):
            raise serializers.ValidationError({"published": ["Must be true or false."]})
        day_services.publish_proceedings(event=self.event, published=published)
        return Response({"published": published})


class ProceedingsExport(EventScoped):
    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def require_visible(self):
        if not (self.is_organizer or self.event.proceedings_published):
            raise Forbidden("The proceedings are not published yet.")


class ProceedingsJsonView(ProceedingsExport):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 403: ERROR})
    def get(self, request, slug):
        """Every session with its room, time, host_name, votes (when visible) and notes."""
        self.require_visible()
        return Response(proceedings.as_json(self.event, show_counts=self.counts_visible()))


class ProceedingsMarkdownView(ProceedingsExport):
    @extend_schema(responses={(200, "text/markdown"): OpenApiTypes.STR, 403: ERROR})
    def get(self, request, slug):
        self.require_visible()
        body = proceedings.as_markdown(self.event, show_counts=self.counts_visible())
        response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{self.event.slug}-proceedings.md"'
        return response


class ProceedingsHtmlView(ProceedingsExport):
    @extend_schema(responses={(200, "text/html"): OpenApiTypes.STR, 403: ERROR})
    def get(self, request, slug):
        """A standalone HTML file (the public page is /e/<slug>/proceedings/)."""
        self.require_visible()
        rows = proceedings.with_html(proceedings.sessions(self.event, show_counts=self.counts_visible()))
        body = render_to_string(
            "voting/proceedings_file.html",
            {
                "event": self.event,
                "sessions": rows,
                "page_url": request.build_absolute_uri(reverse("proceedings-page", args=[self.event.slug])),
            },
        )
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        # A file meant to be saved and opened anywhere: its own styles, never any script.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"
        )
        response["Content-Disposition"] = f'inline; filename="{self.event.slug}-proceedings.html"'
        return response
