"""Contract 5.2 and 6 on the live feed: connected stages (`screens`) for organizers, the
stage view and announcement, check-ins and a swap pushed to every screen."""

import pytest
from asgiref.sync import sync_to_async
from rest_framework.authtoken.models import Token

from tests import factories
from tests.feed_support import authorization, close_sync_thread_connections, subscribed
from tests.test_live_api import running_event
from voting.day import services as day_services
from voting.events import services as event_services
from voting.schedule import services as schedule_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _no_connection_left_behind():
    yield
    await close_sync_thread_connections()


def organizer_header(user):
    token, _ = Token.objects.get_or_create(user=user)
    return authorization(f"Token {token.key}")


async def test_organizers_see_how_many_stages_are_connected_and_when_one_drops(organizer):
    event = await sync_to_async(factories.make_event)(organizer)
    header = await sync_to_async(organizer_header)(organizer)

    async with subscribed(event.slug, headers=[header]) as console:
        assert console.messages[0]["screens"] == 0
        async with subscribed(event.slug, query="view=stage") as stage:
            with_stage = await console.until(lambda m: m["type"] == "snapshot" and m.get("screens") == 1)
            async with subscribed(event.slug, query="view=public"):  # a preview is not a screen
                await console.quiet(0.5)
        dropped = await console.until(lambda m: m["type"] == "snapshot" and m.get("screens") == 0)

    assert "screens" not in stage.messages[0]
    assert "join_code" not in stage.messages[0]["event"]
    assert (with_stage["screens"], dropped["screens"]) == (1, 0)


async def test_the_stage_view_and_announcement_reach_every_screen(organizer):
    event = await sync_to_async(factories.make_event)(organizer)

    async with subscribed(event.slug, query="view=stage") as stage:
        await sync_to_async(event_services.update_event)(
            event=event, changes={"stage_view": "announcement", "announcement": "Lunch is served"}
        )
        message = await stage.until(
            lambda m: m["type"] == "snapshot" and m["event"]["stage_view"] == "announcement"
        )

    assert message["event"]["announcement"] == "Lunch is served"


async def test_a_checkin_and_the_swap_it_suggests_are_pushed_to_the_console_and_the_stage(organizer):
    event, (hall, small, tiny), _, (a, b, _, _) = await sync_to_async(running_event)(organizer)
    header = await sync_to_async(organizer_header)(organizer)
    attendees = [(await sync_to_async(factories.join)(event))[0] for _ in range(3)]

    async with (
        subscribed(event.slug, headers=[header]) as console,
        subscribed(event.slug, query="view=stage") as stage,
    ):
        for attendee in attendees:
            await sync_to_async(day_services.check_in)(event=event, attendee=attendee, proposal_id=b.pk)
        crowded = await console.until(
            lambda m: m["type"] == "snapshot" and any(r["over_capacity"] for r in m["occupancy"])
        )
        row = next(r for r in crowded["occupancy"] if r["proposal"] == b.pk)
        await sync_to_async(schedule_services.place_session)(
            event=event, proposal_id=b.pk, room=hall if row["suggestion"]["room"] == hall.pk else None
        )
        moved = await stage.until(
            lambda m: (
                m["type"] == "snapshot"
                and any(s["proposal"] == b.pk and s["room"] == hall.pk for s in m["schedule"]["sessions"])
            )
        )

    assert (row["checked_in"], row["suggestion"]["swap_with"]) == (3, a.pk)
    assert moved["checked_in"] == {str(b.pk): 3}
    assert "occupancy" not in moved
