"""CSV downloads, opened the way spreadsheets open them: no cell can become a formula."""

import csv
import io

import pytest

from tests import factories
from voting.events import services as event_services
from voting.proposals import services as proposal_services

pytestmark = pytest.mark.django_db

SEPARATORS = [",", ";", "\t"]
FORMULA_STARTS = ("=", "+", "-", "@")

TRICKY_TITLES = [
    "abc;=1+1;x",
    '=HYPERLINK("http://evil.example","click")',
    "+1+1 is two",
    "a,@SUM(1;2)",
    "tabs\t-2+3\there",
    'quoted; "=1+1"',
    "lines\n=1+1\r\n@x",
    "ok; - a dash list",
]
TRICKY_HOSTS = ["@cmd|' /C calc'!A0", "  =2*3", "Ada; +1", "Grace"]


def cells_as_a_spreadsheet_reads_them(text: str, separator: str) -> list[str]:
    """Every cell, split the way an import with that list separator does: with quote
    handling (Excel, LibreOffice) and without it (a plain split, as some importers do)."""
    quoted = [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]
    plain = [cell for line in text.splitlines() for cell in line.split(separator)]
    return quoted + plain


def formulas(text: str) -> list[str]:
    found = []
    for separator in SEPARATORS:
        for cell in cells_as_a_spreadsheet_reads_them(text, separator):
            # Spreadsheets skip leading spaces and an opening quote before deciding.
            if cell.lstrip(' \t"').startswith(FORMULA_STARTS):
                found.append(f"{separator!r}: {cell!r}")
    return found


def test_results_csv_has_no_formula_for_any_list_separator(event, org_client):
    for title, host in zip(TRICKY_TITLES, TRICKY_HOSTS * 2, strict=True):
        proposal_services.submit_proposal(event=event, author=None, title=title, host_name=host)

    response = org_client.get(f"/api/events/{event.slug}/results.csv")
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))

    assert response.status_code == 200
    assert formulas(text) == []
    # Read with the file's own separator, the text is all there, a `'` before each formula start.
    assert sorted(row["title"] for row in rows) == sorted(
        [
            "abc;'=1+1;x",
            '\'=HYPERLINK("http://evil.example","click")',
            "'+1+1 is two",
            "a,'@SUM(1;2)",
            "tabs\t'-2+3\there",
            'quoted; "\'=1+1"',
            "lines\n'=1+1\r\n'@x",
            "ok; '- a dash list",
        ]
    )
    assert sorted({row["host_name"] for row in rows}) == [
        "  '=2*3",
        "'@cmd|' /C calc'!A0",
        "Ada; '+1",
        "Grace",
    ]


def test_badge_and_ledger_csv_have_no_formula_either(event, org_client):
    badge_event = event_services.create_event(
        creator=event.organizers.first(), slug="badges", name="B", identity_mode="badge"
    )
    event_services.generate_badges(event=badge_event, count=3)
    proposal = proposal_services.submit_proposal(event=event, author=None, title="=1+1;@x")
    _, voter, _ = factories.join(event)
    voter.put(f"/api/events/{event.slug}/votes/{proposal.pk}", {"dots": 1}, format="json")

    badges = org_client.get(f"/api/events/{badge_event.slug}/badges.csv").content.decode()
    ledger = org_client.get(f"/api/events/{event.slug}/ledger.csv").content.decode()

    assert len(badges.splitlines()) == 4
    assert len(ledger.splitlines()) == 2
    assert formulas(badges) == []
    assert formulas(ledger) == []
