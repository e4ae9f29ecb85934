"""The counting rules of migrations 0005 and 0008 as SQLite triggers, for the embedded default.

PostgreSQL gets them from those migrations. SQLite cannot: Django alters a SQLite table by
rebuilding it (create, copy, drop, rename), and SQLite refuses that while a trigger on another
table names the table being rebuilt. So they are dropped before every `migrate` and created
after it (voting.apps), whatever the migrations in between do. Same rules, same names.
"""

import re

from django.db.backends.base.base import BaseDatabaseWrapper

# Tables with an event_id whose rows the live state shows (as in migration 0008).
EVENT_TABLES = ("voting_cohost", "voting_unavailability", "voting_leftout")

COUNTS = [
    """CREATE TRIGGER voting_vote_counts_insert AFTER INSERT ON voting_vote BEGIN
        UPDATE voting_proposal SET dots = dots + NEW.dots, voters = voters + 1, tally_revision = tally_revision + 1
         WHERE id = NEW.proposal_id;
    END""",
    """CREATE TRIGGER voting_vote_counts_update AFTER UPDATE OF dots, proposal_id ON voting_vote BEGIN
        UPDATE voting_proposal SET dots = dots - OLD.dots, voters = voters - 1, tally_revision = tally_revision + 1
         WHERE id = OLD.proposal_id;
        UPDATE voting_proposal SET dots = dots + NEW.dots, voters = voters + 1, tally_revision = tally_revision + 1
         WHERE id = NEW.proposal_id;
    END""",
    """CREATE TRIGGER voting_vote_counts_delete AFTER DELETE ON voting_vote BEGIN
        UPDATE voting_proposal SET dots = dots - OLD.dots, voters = voters - 1, tally_revision = tally_revision + 1
         WHERE id = OLD.proposal_id;
    END""",
    """CREATE TRIGGER voting_proposal_counters_guard BEFORE UPDATE OF dots, voters, tally_revision ON voting_proposal
        WHEN NEW.tally_revision <> OLD.tally_revision + 1
         AND (NEW.dots <> OLD.dots OR NEW.voters <> OLD.voters OR NEW.tally_revision <> OLD.tally_revision)
    BEGIN
        SELECT RAISE(ABORT, 'voting_proposal.dots, voters and tally_revision follow voting_vote: write votes, not counters');
    END""",
    """CREATE TRIGGER voting_proposal_counters_start_at_zero BEFORE INSERT ON voting_proposal
        WHEN NEW.dots <> 0 OR NEW.voters <> 0 OR NEW.tally_revision <> 0
    BEGIN
        SELECT RAISE(ABORT, 'voting_proposal.dots, voters and tally_revision follow voting_vote: write votes, not counters');
    END""",
    """CREATE TRIGGER voting_proposal_revision AFTER UPDATE ON voting_proposal
        WHEN NEW.tally_revision = OLD.tally_revision AND NEW.revision = OLD.revision
    BEGIN
        UPDATE voting_proposal SET revision = OLD.revision + 1 WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER voting_event_revision AFTER UPDATE ON voting_event WHEN NEW.revision = OLD.revision BEGIN
        UPDATE voting_event SET revision = OLD.revision + 1 WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER voting_attendee_revision AFTER UPDATE OF token_hash ON voting_attendee
        WHEN NEW.token_hash IS NOT OLD.token_hash
    BEGIN
        UPDATE voting_attendee SET revision = OLD.revision + 1 WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER voting_proposal_deleted AFTER DELETE ON voting_proposal BEGIN
        UPDATE voting_event SET revision = revision + OLD.revision + OLD.tally_revision + 1 WHERE id = OLD.event_id;
    END""",
    """CREATE TRIGGER voting_attendee_deleted AFTER DELETE ON voting_attendee BEGIN
        UPDATE voting_event SET revision = revision + OLD.revision + 1 WHERE id = OLD.event_id;
    END""",
] + [
    f"""CREATE TRIGGER {table}_touches_event_{op.lower()} AFTER {op} ON {table} BEGIN
        UPDATE voting_event SET revision = revision + 1 WHERE id = {row}.event_id;
    END"""
    for table in ("voting_room", "voting_slot", "voting_scheduledsession")
    for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
]


ROW = {"INSERT": "NEW", "UPDATE": "NEW", "DELETE": "OLD"}
LIVE_TABLES = (
    [
        f"""CREATE TRIGGER {table}_touches_event_{op.lower()} AFTER {op} ON {table} BEGIN
        UPDATE voting_event SET revision = revision + 1 WHERE id = {ROW[op]}.event_id;
    END"""
        for table in EVENT_TABLES
        for op in ROW
    ]
    + [
        f"""CREATE TRIGGER voting_checkin_touches_event_{op.lower()} AFTER {op} ON voting_checkin BEGIN
        UPDATE voting_event SET revision = revision + 1
         WHERE id = (SELECT event_id FROM voting_proposal WHERE id = {ROW[op]}.proposal_id);
    END"""
        for op in ROW
    ]
    + [
        f"""CREATE TRIGGER voting_screen_touches_event_{op.lower()} AFTER {op} ON voting_screen BEGIN
        UPDATE voting_event SET revision = revision + 1 WHERE id = {ROW[op]}.event_id;
    END"""
        for op in ("INSERT", "DELETE")
    ]
)


def _name(statement: str) -> str:
    return statement.split()[2]


def _tables(statement: str) -> set[str]:
    """Every table a trigger names: it can exist only while they all do."""
    return set(re.findall(r"\b(voting_[a-z]+)\b", statement))


def drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in COUNTS + LIVE_TABLES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {_name(statement)}")


def create(connection: BaseDatabaseWrapper) -> None:
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for statement in COUNTS + LIVE_TABLES:
            if _tables(statement) <= existing:
                cursor.execute(f"DROP TRIGGER IF EXISTS {_name(statement)}")
                cursor.execute(statement)
