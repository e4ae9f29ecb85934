"""Languages (contract 5.2): every page follows Accept-Language and offers a switcher; the
German, French and Spanish catalogs are complete, keep every placeholder and are compiled."""

import json
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests import factories
from voting.events.console import CONSOLE_STRINGS, STAGE_STRINGS
from voting.events.pages import PHONE_STRINGS
from voting.schedule.console import SCHEDULE_STRINGS

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]
# What must survive translation unchanged: %(name)s, {name}, %% and markup such as <strong>.
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}|%%|</?\w+>")


def catalog(lang) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))


def placeholders(text: str) -> list:
    return sorted(PLACEHOLDER.findall(text))


def page_data(response, element_id: str) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.text, re.S
    )
    return json.loads(match.group(1))


def test_the_four_languages_are_offered_and_english_is_the_default():
    assert [code for code, _ in settings.LANGUAGES] == ["en", "de", "fr", "es"]
    assert settings.LANGUAGE_CODE == "en"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalog_entry_is_translated_and_keeps_its_placeholders(lang):
    po = catalog(lang)
    assert po.metadata["Language"] == lang
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    for entry in po:
        if entry.msgid_plural:
            # A singular may say "your pick" where English says "%(counter)s picks" never.
            assert placeholders(entry.msgstr_plural[1]) == placeholders(entry.msgid_plural), entry.msgid
            assert set(placeholders(entry.msgstr_plural[0])) <= set(placeholders(entry.msgid_plural))
        else:
            assert placeholders(entry.msgstr) == placeholders(entry.msgid), entry.msgid


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_committed_compiled_catalog_matches_its_source(lang):
    """A clean clone serves translations from the committed .mo: it must say what the .po says."""
    po = catalog(lang)
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo if e.msgid}
    source = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in po.translated_entries()}
    assert compiled == source, "run scripts/messages and commit the .mo files"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_the_scripts_show_is_in_the_catalog(lang):
    msgids = {entry.msgid for entry in catalog(lang)}
    with translation.override("en"):  # in English each string is its own msgid
        missing = [
            str(t)
            for t in [
                *PHONE_STRINGS.values(),
                *STAGE_STRINGS.values(),
                *CONSOLE_STRINGS.values(),
                *SCHEDULE_STRINGS.values(),
            ]
            if str(t) not in msgids
        ]
    assert missing == []


# --- pages follow Accept-Language ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_german_phone_gets_a_german_page():
    event = factories.make_event()
    client = Client(headers={"accept-language": "de-DE,de;q=0.9,en;q=0.5"})
    assert client.get(f"/e/{event.slug}/join", {"code": event.join_code}).status_code == 302

    response = client.get(f"/e/{event.slug}/")

    assert '<html lang="de"' in response.text
    assert "Mein Programm" in response.text  # the tab bar, from the template
    strings = page_data(response, "page-data")["strings"]
    assert strings["vote"] == "Abstimmen"
    assert strings["dots_other"] == "{n} Punkte"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "lang", "phase", "lead"),
    [
        ("de", "de", "Verbinde…", "Mach mit auf deinem Handy: Scanne den Code oder öffne"),
        (
            "fr-FR,fr;q=0.8",
            "fr",
            "Connexion…",
            "Rejoignez-nous sur votre téléphone : scannez le code ou ouvrez",
        ),
        ("es-ES", "es", "Conectando…", "Únete desde tu teléfono: escanea el código o abre"),
    ],
)
def test_the_stage_follows_accept_language(accept, lang, phase, lead):
    event = factories.make_event()

    response = Client(headers={"accept-language": accept}).get(f"/e/{event.slug}/stage/")

    assert f'<html lang="{lang}"' in response.text
    assert phase in response.text
    strings = page_data(response, "stage-data")["strings"]
    assert strings["qr_lead"] == lead
    assert "{n}" in strings["joined_other"]


@pytest.mark.django_db
def test_the_consoles_follow_accept_language():
    organizer = factories.make_organizer()
    event = factories.make_event(organizer)
    client = Client(headers={"accept-language": "de"})
    client.force_login(organizer)

    console = client.get(f"/e/{event.slug}/organize/")
    schedule = client.get(f"/e/{event.slug}/organize/schedule/")

    assert '<html lang="de"' in console.text
    assert "Orga-Konsole" in console.text and "Ergebnisse enthüllen" in console.text
    strings = page_data(console, "console-data")["strings"]
    assert strings["phase_vote"] == "Die Abstimmung ist offen"
    assert (
        strings["badge_stats_other"]
        == "{total} Badges · {unused} unbenutzt · {redeemed} eingelöst · {revoked} gesperrt"
    )
    assert '<html lang="de"' in schedule.text and "Programm erzeugen" in schedule.text
    assert page_data(schedule, "schedule-data")["strings"]["regenerate"] == "Um die Pins herum neu erzeugen"
    assert 'data-network="Der Server war nicht erreichbar.' in schedule.text


@pytest.mark.django_db
def test_without_accept_language_every_page_stays_english():
    event = factories.make_event()

    response = Client().get(f"/e/{event.slug}/stage/")

    assert '<html lang="en"' in response.text
    assert (
        page_data(response, "stage-data")["strings"]["qr_lead"] == "Join on your phone: scan the code or open"
    )


@pytest.mark.django_db
def test_attendee_text_is_never_translated():
    event = factories.make_event(name="Results")  # an event named like a catalog entry

    response = Client(headers={"accept-language": "de"}).get(f"/e/{event.slug}/stage/")

    assert "<bdi>Results</bdi>" in response.text


# --- the switcher -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/e/{slug}/stage/", "/e/{slug}/join"])
def test_every_page_offers_the_language_switcher(path):
    event = factories.make_event()

    response = Client().get(path.format(slug=event.slug))

    assert 'action="/i18n/setlang/"' in response.text
    for code, name in settings.LANGUAGES:
        assert f'<option value="{code}" lang="{code}"' in response.text
        assert name in response.text


@pytest.mark.django_db
def test_the_switcher_changes_the_language_and_returns_to_the_page():
    event = factories.make_event()
    client = Client(headers={"accept-language": "de"})  # the choice beats the browser's
    stage = f"/e/{event.slug}/stage/"

    response = client.post("/i18n/setlang/", {"language": "fr", "next": stage})

    assert response.status_code == 302 and response["Location"] == stage
    page = client.get(stage)
    assert '<html lang="fr"' in page.text
    assert page_data(page, "stage-data")["strings"]["vote_now"] == "Votez maintenant"
    assert 'value="fr" lang="fr" selected' in page.text


@pytest.mark.django_db
def test_the_switcher_never_sends_anyone_to_another_site():
    response = Client().post("/i18n/setlang/", {"language": "de", "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == "/"
