"""A badge's QR link: a GET (a link preview, a mail scanner, the QR app itself) never redeems
the badge or signs anyone out; the page it shows takes one tap (a POST) to join."""

from html.parser import HTMLParser

from django.test import Client

from tests import factories
from voting.events import services as event_services
from voting.events.identity import ATTENDEE_COOKIE
from voting.models import Attendee, Badge, BadgeStatus


def badge_event(organizer):
    event = factories.make_event(organizer, identity_mode="badge")
    (badge,) = event_services.generate_badges(event=event, count=1)
    return event, badge


class PostForm(HTMLParser):
    """The page's POST form: its action and the fields a browser would send with its button."""

    def __init__(self, html: str):
        super().__init__()
        self.action, self.fields, self.inside = None, {}, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post":
            self.action, self.inside = attrs["action"], True
        elif tag == "input" and self.inside and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def tap_join(phone: Client, html: str):
    form = PostForm(html)
    return phone.post(form.action, form.fields)


def test_the_printed_qr_code_joins_with_one_tap(db, organizer):
    event, badge = badge_event(organizer)
    phone = Client(enforce_csrf_checks=True)
    link = f"/e/{event.slug}/join?code={badge.code}"

    page = phone.get(link)
    html = page.content.decode()
    joined = tap_join(phone, html)

    assert page.status_code == 200
    assert f'value="{badge.code}"' in html
    assert "Tap Join to use this badge on this phone." in html
    assert ATTENDEE_COOKIE not in page.cookies
    assert joined.status_code == 302
    assert joined["Location"] == f"/e/{event.slug}/"
    assert phone.get(f"/e/{event.slug}/").context["attendee"] == badge.attendee


def test_a_link_preview_of_a_redeemed_badge_changes_nothing(db, organizer):
    event, badge = badge_event(organizer)
    phone = Client()
    phone.post(f"/e/{event.slug}/join", {"code": badge.code})
    token_hash = Attendee.objects.get(pk=badge.attendee_id).token_hash

    previews = [Client().get(f"/e/{event.slug}/join", {"code": badge.code}) for _ in range(3)]
    own_phone_again = phone.get(f"/e/{event.slug}/join", {"code": badge.code})

    assert [p.status_code for p in previews] == [200, 200, 200]
    assert all(ATTENDEE_COOKIE not in p.cookies for p in previews)
    assert own_phone_again.status_code == 200
    assert phone.get(f"/api/events/{event.slug}/me").status_code == 200  # still signed in
    assert Attendee.objects.get(pk=badge.attendee_id).token_hash == token_hash
    assert Badge.objects.get(pk=badge.pk).status == BadgeStatus.REDEEMED
