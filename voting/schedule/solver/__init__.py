"""Pure-Python schedule builder: top proposals into rooms x slots with few attendee clashes.

Hard constraints, never broken by the builder (pins aside, which are reported instead): no
host in two sessions that overlap in time; no session in a slot one of its hosts cannot
make; a long session holds one room for consecutive slots of one day and nothing else sits
in those cells. When the top proposals cannot all be placed that way, the builder first
opens one more slot (compact filling), then skips sessions down the ranking.

inputs: what it works on; build: choose, place, explain; search: the local search over
slots; explain: the sentence for each session. No Django here: it is tested and benchmarked
on plain data.
"""

from voting.schedule.solver.build import build_schedule
from voting.schedule.solver.inputs import (
    COMPACT,
    SPREAD,
    Ballots,
    RoomInput,
    ScheduleResult,
    SessionInput,
    SlotInput,
    clash_total,
    constraint_conflicts,
    span_indices,
)

__all__ = [
    "COMPACT",
    "SPREAD",
    "Ballots",
    "RoomInput",
    "ScheduleResult",
    "SessionInput",
    "SlotInput",
    "build_schedule",
    "clash_total",
    "constraint_conflicts",
    "span_indices",
]
