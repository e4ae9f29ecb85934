"""Counts that cannot drift, and versions that name one state.

1. **One writer for the counters.** A proposal's `dots` and `voters` are moved by one trigger
   on `voting_vote` and by nothing else: the vote function, refunds and merges only write
   vote rows. On PostgreSQL a direct write of a counter is refused (pg_trigger_depth() = 0);
   on SQLite one that does not come with exactly one step of `tally_revision` is. The model
   never writes them back either (voting.core.models.DatabaseMaintained).
2. **Revisions.** Every row the live state shows counts its own changes: a proposal's
   `revision` (edits, status) and `tally_revision` (its counters), an attendee's `revision`
   (token: participation), the event's `revision` (settings; rooms, slots and sessions touch
   it). A row that is deleted hands its count to the event. Each is monotone and committed in
   order per row, so their sum, read in one snapshot, rises with every committed change and
   is equal only for equal states: the feed's version (voting.feed.snapshots.state_clock).
3. **Data.** Dots stranded on proposals that are not published (sent back to pending before
   this release) go back to their voters with a ledger row each, and every counter is
   recounted from the vote rows.

The triggers exist in both dialects: PostgreSQL (here) and SQLite, the embedded default
(voting/sqlite_triggers.py: Django alters a SQLite table by rebuilding it, which a trigger on
another table that names it would break, so they are dropped before and created after every
`migrate` instead of living in a migration).
"""

from django.db import migrations, models

# --- PostgreSQL --------------------------------------------------------------------------------

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION unconf_vote_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.proposal_id = OLD.proposal_id THEN
        UPDATE voting_proposal SET dots = dots + NEW.dots - OLD.dots, tally_revision = tally_revision + 1
         WHERE id = NEW.proposal_id;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE voting_proposal SET dots = dots - OLD.dots, voters = voters - 1, tally_revision = tally_revision + 1
         WHERE id = OLD.proposal_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE voting_proposal SET dots = dots + NEW.dots, voters = voters + 1, tally_revision = tally_revision + 1
         WHERE id = NEW.proposal_id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION unconf_counters_are_derived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'voting_proposal.dots, voters and tally_revision follow voting_vote: write votes, not counters'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE OR REPLACE FUNCTION unconf_next_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- At least one step; a trigger that moved it further (a deleted row's share) keeps that.
    NEW.revision := greatest(NEW.revision, OLD.revision + 1);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION unconf_touch_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE voting_event SET revision = revision + 1
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.event_id ELSE NEW.event_id END;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION unconf_proposal_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE voting_event SET revision = revision + OLD.revision + OLD.tally_revision + 1 WHERE id = OLD.event_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION unconf_attendee_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE voting_event SET revision = revision + OLD.revision + 1 WHERE id = OLD.event_id;
    RETURN NULL;
END $$;
"""

PG_TRIGGERS = """
CREATE TRIGGER voting_vote_counts AFTER INSERT OR UPDATE OF dots, proposal_id OR DELETE ON voting_vote
    FOR EACH ROW EXECUTE FUNCTION unconf_vote_counts();
CREATE TRIGGER voting_proposal_counters_guard BEFORE UPDATE OF dots, voters, tally_revision ON voting_proposal
    FOR EACH ROW WHEN (pg_trigger_depth() = 0
        AND (NEW.dots, NEW.voters, NEW.tally_revision) IS DISTINCT FROM (OLD.dots, OLD.voters, OLD.tally_revision))
    EXECUTE FUNCTION unconf_counters_are_derived();
CREATE TRIGGER voting_proposal_counters_start_at_zero BEFORE INSERT ON voting_proposal
    FOR EACH ROW WHEN (NEW.dots <> 0 OR NEW.voters <> 0 OR NEW.tally_revision <> 0)
    EXECUTE FUNCTION unconf_counters_are_derived();
CREATE TRIGGER voting_proposal_revision BEFORE UPDATE ON voting_proposal
    FOR EACH ROW WHEN (NEW.tally_revision = OLD.tally_revision) EXECUTE FUNCTION unconf_next_revision();
CREATE TRIGGER voting_event_revision BEFORE UPDATE ON voting_event
    FOR EACH ROW EXECUTE FUNCTION unconf_next_revision();
CREATE TRIGGER voting_attendee_revision BEFORE UPDATE OF token_hash ON voting_attendee
    FOR EACH ROW WHEN (NEW.token_hash IS DISTINCT FROM OLD.token_hash) EXECUTE FUNCTION unconf_next_revision();
CREATE TRIGGER voting_proposal_deleted AFTER DELETE ON voting_proposal
    FOR EACH ROW EXECUTE FUNCTION unconf_proposal_deleted();
CREATE TRIGGER voting_attendee_deleted AFTER DELETE ON voting_attendee
    FOR EACH ROW EXECUTE FUNCTION unconf_attendee_deleted();
""" + "".join(
    f"CREATE TRIGGER {table}_touches_event AFTER INSERT OR UPDATE OR DELETE ON {table}\n"
    "    FOR EACH ROW EXECUTE FUNCTION unconf_touch_event();\n"
    for table in ("voting_room", "voting_slot", "voting_scheduledsession")
)

# The vote: the same rules as before, but it writes only the vote row and the ledger; the
# trigger moves the counters. The proposal row is locked before the vote row is written, so
# the lock order stays event -> attendee -> proposal -> vote.
PG_SET_DOTS = """
CREATE OR REPLACE FUNCTION unconf_set_dots(
    p_event bigint, p_attendee bigint, p_proposal bigint, p_dots integer, p_now timestamptz,
    OUT outcome text, OUT max_dots integer, OUT budget integer,
    OUT vote_proposals bigint[], OUT vote_dots integer[], OUT own_proposals bigint[]
) LANGUAGE plpgsql AS $$
DECLARE
    is_open boolean;
    closes_at timestamptz;
    before integer;
    spent_elsewhere integer;
    proposal_status text;
BEGIN
    SELECT voting_open, voting_closes_at, max_dots_per_proposal, votes_per_attendee
      INTO is_open, closes_at, max_dots, budget
      FROM voting_event WHERE id = p_event FOR KEY SHARE;
    IF NOT FOUND THEN
        outcome := 'no_event';
        RETURN;
    END IF;
    IF NOT (is_open AND (closes_at IS NULL OR p_now < closes_at)) THEN
        outcome := 'closed';
        RETURN;
    END IF;
    IF p_dots < 0 OR p_dots > max_dots THEN
        outcome := 'invalid_dots';
        RETURN;
    END IF;
    PERFORM 1 FROM voting_attendee WHERE id = p_attendee FOR UPDATE;
    SELECT coalesce(sum(dots) FILTER (WHERE proposal_id <> p_proposal), 0),
           coalesce(max(dots) FILTER (WHERE proposal_id = p_proposal), 0)
      INTO spent_elsewhere, before
      FROM voting_vote WHERE attendee_id = p_attendee;
    IF p_dots = before THEN
        outcome := CASE WHEN before = 0 AND NOT EXISTS (
            SELECT 1 FROM voting_proposal WHERE id = p_proposal AND event_id = p_event
        ) THEN 'no_proposal' ELSE 'unchanged' END;
    ELSIF spent_elsewhere + p_dots > budget THEN
        outcome := 'over_budget';
    ELSE
        SELECT status INTO proposal_status
          FROM voting_proposal WHERE id = p_proposal AND event_id = p_event FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            outcome := 'no_proposal';
            RETURN;
        END IF;
        -- Taking dots back is always allowed; adding needs a published proposal.
        IF p_dots > before AND proposal_status <> 'published' THEN
            outcome := 'not_open';
            RETURN;
        END IF;
        IF p_dots = 0 THEN
            DELETE FROM voting_vote WHERE attendee_id = p_attendee AND proposal_id = p_proposal;
        ELSIF before = 0 THEN
            INSERT INTO voting_vote (event_id, attendee_id, proposal_id, dots, updated_at)
            VALUES (p_event, p_attendee, p_proposal, p_dots, p_now);
        ELSE
            UPDATE voting_vote SET dots = p_dots, updated_at = p_now
             WHERE attendee_id = p_attendee AND proposal_id = p_proposal;
        END IF;
        INSERT INTO voting_ledgerentry
            (event_id, created_at, attendee_id, proposal_id, dots_before, dots_after, cause)
        VALUES (p_event, p_now, p_attendee, p_proposal, before, p_dots, 'vote');
        outcome := 'changed';
    END IF;
    IF outcome IN ('changed', 'unchanged') THEN
        SELECT coalesce(array_agg(proposal_id ORDER BY proposal_id), '{}'),
               coalesce(array_agg(dots ORDER BY proposal_id), '{}')
          INTO vote_proposals, vote_dots
          FROM voting_vote WHERE attendee_id = p_attendee;
        SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO own_proposals
          FROM voting_proposal WHERE author_id = p_attendee AND status <> 'withdrawn';
    END IF;
END
$$;
"""

PG_DROP = """
DROP TRIGGER IF EXISTS voting_vote_counts ON voting_vote;
DROP TRIGGER IF EXISTS voting_proposal_counters_guard ON voting_proposal;
DROP TRIGGER IF EXISTS voting_proposal_counters_start_at_zero ON voting_proposal;
DROP TRIGGER IF EXISTS voting_proposal_revision ON voting_proposal;
DROP TRIGGER IF EXISTS voting_event_revision ON voting_event;
DROP TRIGGER IF EXISTS voting_attendee_revision ON voting_attendee;
DROP TRIGGER IF EXISTS voting_proposal_deleted ON voting_proposal;
DROP TRIGGER IF EXISTS voting_attendee_deleted ON voting_attendee;
DROP TRIGGER IF EXISTS voting_room_touches_event ON voting_room;
DROP TRIGGER IF EXISTS voting_slot_touches_event ON voting_slot;
DROP TRIGGER IF EXISTS voting_scheduledsession_touches_event ON voting_scheduledsession;
DROP FUNCTION IF EXISTS unconf_vote_counts(), unconf_counters_are_derived(), unconf_next_revision(),
    unconf_touch_event(), unconf_proposal_deleted(), unconf_attendee_deleted();
"""

# --- data: refund stranded dots, recount -------------------------------------------------------


def refund_stranded_and_recount(apps, schema_editor):
    """Dots on proposals that are not published go back (one ledger row each); counters are
    recounted from the vote rows. Runs before the triggers exist."""
    Vote = apps.get_model("voting", "Vote")
    LedgerEntry = apps.get_model("voting", "LedgerEntry")
    Proposal = apps.get_model("voting", "Proposal")
    stranded = Vote.objects.exclude(proposal__status="published").select_related("proposal")
    causes = {"hidden": "hidden", "pending": "pending", "withdrawn": "withdrawn", "merged": "merge"}
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            event_id=vote.event_id,
            attendee_id=vote.attendee_id,
            proposal_id=vote.proposal_id,
            dots_before=vote.dots,
            dots_after=0,
            cause=causes[vote.proposal.status],
        )
        for vote in stranded
    )
    stranded.delete()
    counted = {
        row["proposal_id"]: row
        for row in Vote.objects.values("proposal_id").annotate(d=models.Sum("dots"), v=models.Count("id"))
    }
    for proposal in Proposal.objects.all():
        row = counted.get(proposal.pk, {"d": 0, "v": 0})
        if (proposal.dots, proposal.voters) != (row["d"], row["v"]):
            Proposal.objects.filter(pk=proposal.pk).update(dots=row["d"], voters=row["v"])


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTIONS)
        schema_editor.execute(PG_TRIGGERS)
        schema_editor.execute(PG_SET_DOTS)
        schema_editor.execute("DROP SEQUENCE IF EXISTS voting_state_version")
    # SQLite: the same triggers are voting.votes.sqlite_triggers, created after every migrate.


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS voting_state_version")
        from importlib import import_module

        import_module("voting.migrations.0003_set_dots_function").forwards(apps, schema_editor)


def revision_field(default: int):
    return models.PositiveBigIntegerField(default=default, editable=False)


class Migration(migrations.Migration):
    dependencies = [("voting", "0004_attendee_by_event_token")]

    operations = [
        migrations.AddField("event", "revision", revision_field(1)),
        migrations.AddField("attendee", "revision", revision_field(1)),
        migrations.AddField("proposal", "revision", revision_field(1)),
        migrations.AddField("proposal", "tally_revision", revision_field(0)),
        migrations.AlterField("proposal", "dots", models.PositiveIntegerField(default=0, editable=False)),
        migrations.AlterField("proposal", "voters", models.PositiveIntegerField(default=0, editable=False)),
        migrations.AlterField(
            "ledgerentry",
            "cause",
            models.CharField(
                max_length=10,
                choices=[
                    ("vote", "Vote"),
                    ("withdrawn", "Proposal withdrawn"),
                    ("hidden", "Proposal hidden"),
                    ("pending", "Proposal sent back to pending"),
                    ("merge", "Proposals merged"),
                ],
            ),
        ),
        migrations.RunPython(refund_stranded_and_recount, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
