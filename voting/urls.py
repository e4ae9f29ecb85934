"""API routes of the public contract (section 3 and 4), all under /api/."""

from django.urls import path, register_converter

from . import api, live_api, organizers_api, rounds_api, schedule_api


class RowId:
    """A row id: digits that fit PostgreSQL's bigint. Longer ones match no route (a JSON 404)
    instead of reaching the database and failing there (a 500 and a traceback per request)."""

    regex = "[0-9]+"
    largest = 2**63 - 1

    def to_python(self, value: str) -> int:
        if len(value) > 19 or int(value) > self.largest:
            raise ValueError("past bigint")
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(RowId, "id")

EVENT = "events/<slug:slug>"

event_routes = [
    path(EVENT + "", api.EventDetailView.as_view(), name="event-detail"),
    path(EVENT + "/join", api.JoinView.as_view(), name="join"),
    path(EVENT + "/organizers", organizers_api.OrganizerListView.as_view(), name="organizers"),
    path(EVENT + "/badges", api.BadgeListView.as_view(), name="badges"),
    path(EVENT + "/badges.csv", api.BadgeCsvView.as_view(), name="badges-csv"),
    path(EVENT + "/badges/<str:code>/revoke", api.BadgeRevokeView.as_view(), name="badge-revoke"),
    path(EVENT + "/badges/<str:code>/reissue", api.BadgeReissueView.as_view(), name="badge-reissue"),
    path(EVENT + "/proposals", api.ProposalListView.as_view(), name="proposals"),
    path(EVENT + "/proposals/similar", api.ProposalSimilarView.as_view(), name="proposals-similar"),
    path(EVENT + "/proposals/<id:pk>", api.ProposalDetailView.as_view(), name="proposal-detail"),
    path(EVENT + "/proposals/<id:pk>/merge", api.ProposalMergeView.as_view(), name="proposal-merge"),
    path(EVENT + "/proposals/<id:pk>/cohost-invite", api.CohostInviteView.as_view(), name="cohost-invite"),
    path(EVENT + "/cohost", api.CohostView.as_view(), name="cohost"),
    path(EVENT + "/me/availability", api.AvailabilityView.as_view(), name="me-availability"),
    path(EVENT + "/votes/<id:pk>", api.VoteView.as_view(), name="vote"),
    path(EVENT + "/me", api.MeView.as_view(), name="me"),
    path(EVENT + "/results", api.ResultsView.as_view(), name="results"),
    path(EVENT + "/results.csv", api.ResultsCsvView.as_view(), name="results-csv"),
    path(EVENT + "/ledger.csv", api.LedgerCsvView.as_view(), name="ledger-csv"),
    path(EVENT + "/rounds", rounds_api.RoundListView.as_view(), name="rounds"),
    path(EVENT + "/rounds/<id:pk>/start", rounds_api.RoundStartView.as_view(), name="round-start"),
]

schedule_routes = [
    path(EVENT + "/rooms", schedule_api.RoomListView.as_view(), name="rooms"),
    path(EVENT + "/rooms/<id:pk>", schedule_api.RoomDetailView.as_view(), name="room-detail"),
    path(EVENT + "/slots", schedule_api.SlotListView.as_view(), name="slots"),
    path(EVENT + "/slots/<id:pk>", schedule_api.SlotDetailView.as_view(), name="slot-detail"),
    path(EVENT + "/schedule", schedule_api.ScheduleView.as_view(), name="schedule"),
    path(EVENT + "/schedule/generate", schedule_api.ScheduleGenerateView.as_view(), name="schedule-generate"),
    path(
        EVENT + "/schedule/sessions/<id:proposal_id>",
        schedule_api.ScheduleSessionView.as_view(),
        name="schedule-session",
    ),
    path(EVENT + "/schedule/publish", schedule_api.SchedulePublishView.as_view(), name="schedule-publish"),
    path(
        EVENT + "/schedule/unpublish", schedule_api.ScheduleUnpublishView.as_view(), name="schedule-unpublish"
    ),
    path(EVENT + "/schedule/clashes", schedule_api.ScheduleClashesView.as_view(), name="schedule-clashes"),
    path(EVENT + "/schedule.json", schedule_api.ScheduleJsonView.as_view(), name="schedule-json"),
    path(EVENT + "/schedule.ics", schedule_api.ScheduleIcsView.as_view(), name="schedule-ics"),
    path(EVENT + "/schedule.xml", schedule_api.ScheduleXmlView.as_view(), name="schedule-xml"),
]

SESSION = EVENT + "/schedule/sessions/<int:proposal_id>"

live_routes = [
    path(EVENT + "/now", live_api.NowView.as_view(), name="now"),
    path(EVENT + "/me/stars", live_api.StarsView.as_view(), name="stars"),
    path(EVENT + "/me/checkin", live_api.MyCheckInView.as_view(), name="my-checkin"),
    path(SESSION + "/checkin", live_api.CheckInView.as_view(), name="checkin"),
    path(SESSION + "/notes", live_api.NotesView.as_view(), name="notes"),
    path(SESSION + "/notes/revisions", live_api.NoteRevisionsView.as_view(), name="note-revisions"),
    path(
        EVENT + "/proceedings/publish", live_api.ProceedingsPublishView.as_view(), name="proceedings-publish"
    ),
    path(EVENT + "/proceedings.json", live_api.ProceedingsJsonView.as_view(), name="proceedings-json"),
    path(EVENT + "/proceedings.md", live_api.ProceedingsMarkdownView.as_view(), name="proceedings-md"),
    path(EVENT + "/proceedings.html", live_api.ProceedingsHtmlView.as_view(), name="proceedings-html"),
]

urlpatterns = [
    path("auth/token", api.TokenView.as_view(), name="auth-token"),
    path("events", api.EventListView.as_view(), name="events"),
    *event_routes,
    *schedule_routes,
    *live_routes,
]
