"""The one ranking rule (contract 4), for the API, the feed, every page and the scheduler.

Most dots first, then most voters. Proposals equal on both are tied and share a rank number
(1, 1, 3). Where an order is needed among tied proposals (a list, the scheduler's cut line),
the earlier proposal comes first. The browser's copy of this rule is `static/voting/rank.js`;
tests/ranking_cases.py holds both to the same cases (tests/test_ranking.py,
tests/browser/test_ranking_js.py).

Plain Python on purpose: the schedule builder uses it on its own inputs, without Django.
"""

from collections.abc import Iterable, Sequence

ORDER = ("-dots", "-voters", "created_at", "id")  # for QuerySet.order_by


def sort_key(item) -> tuple:
    """`sorted(items, key=sort_key)` ranks anything with dots, voters, created_at and id."""
    return (-item.dots, -item.voters, item.created_at, item.id)


def ranked(items: Iterable) -> list:
    return sorted(items, key=sort_key)


def rank_numbers(ranked_items: Sequence) -> list[int]:
    """Rank numbers of items already in ranking order: tied items share the first one's."""
    numbers: list[int] = []
    for position, item in enumerate(ranked_items):
        previous = ranked_items[position - 1] if position else None
        tied = previous is not None and (previous.dots, previous.voters) == (item.dots, item.voters)
        numbers.append(numbers[-1] if tied else position + 1)
    return numbers
