"""The ranking cases both copies of the rule must agree on: proposals/ranking.py (API, feed,
pages, scheduler) and static/voting/rank.js (stage, phone, console)."""

# (name, dots, voters) in the order the proposals were made: the earlier one wins a tie.
PROPOSALS = [
    ("Ada", 3, 2),
    ("Bo", 3, 3),
    ("Cy", 3, 2),  # tied with Ada on both: same rank number, Ada first
    ("Di", 0, 0),
    ("Ed", 5, 1),
]
ORDER = ["Ed", "Bo", "Ada", "Cy", "Di"]
RANK_NUMBERS = [1, 2, 3, 3, 5]
