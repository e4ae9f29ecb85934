"""Page routes of the public contract (section 2)."""

from django.urls import path

from voting.day import pages as day_pages
from voting.events import console, pages
from voting.schedule import console as schedule_console
from voting.schedule import pages as schedule_pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("e/<slug:slug>/", pages.event_page, name="event"),
    path("e/<slug:slug>/join", pages.join_page, name="join-page"),
    path("e/<slug:slug>/schedule/", schedule_pages.schedule_page, name="schedule-page"),
    path("e/<slug:slug>/proceedings/", day_pages.proceedings_page, name="proceedings-page"),
    path("e/<slug:slug>/proceedings.png", day_pages.proceedings_image, name="proceedings-image"),
    path("e/<slug:slug>/sw.js", pages.phone_worker, name="phone-worker"),
    path("e/<slug:slug>/stage/", console.stage, name="stage"),
    path("e/<slug:slug>/join-qr.<str:fmt>", console.join_qr, name="join-qr"),
    path("organize/", console.events, name="organize-events"),
    path("e/<slug:slug>/organize/", console.organize, name="organize"),
    path("e/<slug:slug>/organize/badges/", console.badge_sheet, name="badge-sheet"),
    path("e/<slug:slug>/organize/schedule/", schedule_console.organize_schedule, name="organize-schedule"),
]
