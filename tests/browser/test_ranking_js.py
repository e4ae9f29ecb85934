"""The browser's copy of the ranking rule (static/voting/rank.js: stage, phone, console) agrees
with the server's (voting/proposals/ranking.py) on the shared cases of tests/ranking_cases.py."""

from tests.ranking_cases import ORDER, PROPOSALS, RANK_NUMBERS


def test_the_stage_and_phones_rank_and_number_like_the_server(transactional_db, server, desktop):
    page = desktop()
    page.goto("/")
    proposals = [
        {"id": 10 - i, "title": name, "dots": dots, "voters": voters, "created_at": f"2030-05-01T10:0{i}:00Z"}
        for i, (name, dots, voters) in enumerate(PROPOSALS)
    ]
    ranked = page.evaluate(
        """async (proposals) => {
            const { byRank, rankNumbers } = await import("/static/voting/rank.js");
            const sorted = [...proposals].reverse().sort(byRank);
            return { order: sorted.map((p) => p.title), numbers: rankNumbers(sorted) };
        }""",
        proposals,
    )
    assert ranked == {"order": ORDER, "numbers": RANK_NUMBERS}
