"""Every model of the app, for Django (it loads `voting.models`) and for tests and the shell.

Each domain keeps its models in its own package (events, proposals, votes, schedule, day); the
tables stay those of the `voting` app, so moving a model between packages needs no migration.
"""

from voting.day.models import CheckIn, NoteRevision, Screen, Star
from voting.events.models import (
    BADGE_CODE_LENGTH,
    Attendee,
    Badge,
    BadgeStatus,
    Event,
    IdentityMode,
    Moderation,
    Round,
    StageView,
    TallyVisibility,
    hash_token,
    normalize_code,
)
from voting.proposals.models import Proposal, ProposalStatus
from voting.schedule.models import CoHost, CohostInvite, LeftOut, Room, ScheduledSession, Slot, Unavailability
from voting.votes.models import LedgerCause, LedgerEntry, RoundVote, Vote

__all__ = [
    "BADGE_CODE_LENGTH",
    "Attendee",
    "Badge",
    "BadgeStatus",
    "CheckIn",
    "CoHost",
    "CohostInvite",
    "Event",
    "IdentityMode",
    "LedgerCause",
    "LedgerEntry",
    "LeftOut",
    "Moderation",
    "NoteRevision",
    "Proposal",
    "ProposalStatus",
    "Room",
    "Round",
    "RoundVote",
    "ScheduledSession",
    "Screen",
    "Slot",
    "Star",
    "StageView",
    "TallyVisibility",
    "Unavailability",
    "Vote",
    "hash_token",
    "normalize_code",
]
