"""API routes of the public contract (section 3 and 4), all under /api/."""

from django.urls import path, register_converter

from voting.day import api as day_api
from voting.events import api as event_api
from voting.events import organizers_api, rounds_api
from voting.proposals import api as proposal_api
from voting.schedule import api as schedule_api
from voting.votes import api as vote_api


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
    path(EVENT + "", event_api.EventDetailView.as_view(), name="event-detail"),
    path(EVENT + "/join", event_api.JoinView.as_view(), name="join"),
    path(EVENT + "/organizers", organizers_api.OrganizerListView.as_view(), name="organizers"),
    path(EVENT + "/badges", event_api.BadgeListView.as_view(), name="badges"),
    path(EVENT + "/badges.csv", event_api.BadgeCsvView.as_view(), name="badges-csv"),
    path(EVENT + "/badges/<str:code>/revoke", event_api.BadgeRevokeView.as_view(), name="badge-revoke"),
    path(EVENT + "/badges/<str:code>/reissue", event_api.BadgeReissueView.as_view(), name="badge-reissue"),
    path(EVENT + "/proposals", proposal_api.ProposalListView.as_view(), name="proposals"),
    path(EVENT + "/proposals/similar", proposal_api.ProposalSimilarView.as_view(), name="proposals-similar"),
    path(EVENT + "/proposals/<id:pk>", proposal_api.ProposalDetailView.as_view(), name="proposal-detail"),
    path(EVENT + "/proposals/<id:pk>/merge", proposal_api.ProposalMergeView.as_view(), name="proposal-merge"),
    path(
        EVENT + "/proposals/<id:pk>/cohost-invite",
        proposal_api.CohostInviteView.as_view(),
        name="cohost-invite",
    ),
    path(EVENT + "/cohost", proposal_api.CohostView.as_view(), name="cohost"),
    path(EVENT + "/me/availability", proposal_api.AvailabilityView.as_view(), name="me-availability"),
    path(EVENT + "/votes/<id:pk>", vote_api.VoteView.as_view(), name="vote"),
    path(EVENT + "/me", vote_api.MeView.as_view(), name="me"),
    path(EVENT + "/results", vote_api.ResultsView.as_view(), name="results"),
    path(EVENT + "/results.csv", vote_api.ResultsCsvView.as_view(), name="results-csv"),
    path(EVENT + "/ledger.csv", vote_api.LedgerCsvView.as_view(), name="ledger-csv"),
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
    path(EVENT + "/now", day_api.NowView.as_view(), name="now"),
    path(EVENT + "/me/stars", day_api.StarsView.as_view(), name="stars"),
    path(EVENT + "/me/checkin", day_api.MyCheckInView.as_view(), name="my-checkin"),
    path(SESSION + "/checkin", day_api.CheckInView.as_view(), name="checkin"),
    path(SESSION + "/notes", day_api.NotesView.as_view(), name="notes"),
    path(SESSION + "/notes/revisions", day_api.NoteRevisionsView.as_view(), name="note-revisions"),
    path(
        EVENT + "/proceedings/publish", day_api.ProceedingsPublishView.as_view(), name="proceedings-publish"
    ),
    path(EVENT + "/proceedings.json", day_api.ProceedingsJsonView.as_view(), name="proceedings-json"),
    path(EVENT + "/proceedings.md", day_api.ProceedingsMarkdownView.as_view(), name="proceedings-md"),
    path(EVENT + "/proceedings.html", day_api.ProceedingsHtmlView.as_view(), name="proceedings-html"),
]

urlpatterns = [
    path("auth/token", event_api.TokenView.as_view(), name="auth-token"),
    path("events", event_api.EventListView.as_view(), name="events"),
    *event_routes,
    *schedule_routes,
    *live_routes,
]
