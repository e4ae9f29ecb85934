"""PostgreSQL: the vote as one server-side function, `unconf_set_dots`, and `unconf_vote`.

A vote is the hot path of a keynote hall. Sent as separate statements it was ten round
trips and ~1 ms of PostgreSQL CPU; as one call it is one round trip in autocommit (one
transaction), with plans cached per connection, and ~0.5 ms (scripts/bench --votes-only).

The rules are the same as services.set_dots_portable (which serves SQLite) and so are the
locks, taken in the documented order: event FOR KEY SHARE → attendee FOR UPDATE → proposal
(its counter row) → the vote row. The proposal's counter is moved before the vote row is
written, so a refusal ('not_open', 'no_proposal') has written nothing and needs no rollback.
Literals: 'published'/'withdrawn' are ProposalStatus values, 'vote' is LedgerCause.VOTE.

`unconf_vote` is the API's entry: it finds the attendee by event address and token hash
(the two lookups every vote request made first) and calls `unconf_set_dots`, so a vote
request is one round trip in all. It answers outcome 'no_attendee' when the pair is unknown.
"""

from django.db import migrations

SET_DOTS = """
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
        -- Taking dots back is always allowed; adding needs a published proposal.
        UPDATE voting_proposal
           SET dots = dots + p_dots - before,
               voters = voters + (p_dots > 0)::integer - (before > 0)::integer
         WHERE id = p_proposal AND event_id = p_event AND (p_dots < before OR status = 'published');
        IF NOT FOUND THEN
            outcome := CASE WHEN EXISTS (
                SELECT 1 FROM voting_proposal WHERE id = p_proposal AND event_id = p_event
            ) THEN 'not_open' ELSE 'no_proposal' END;
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

VOTE = """
CREATE OR REPLACE FUNCTION unconf_vote(
    p_slug text, p_token_hash text, p_proposal bigint, p_dots integer, p_now timestamptz,
    OUT attendee_id bigint, OUT event_id bigint, OUT public_id text, OUT display_name text,
    OUT outcome text, OUT max_dots integer, OUT budget integer,
    OUT vote_proposals bigint[], OUT vote_dots integer[], OUT own_proposals bigint[]
) LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.id, a.event_id, a.public_id, a.display_name
      INTO attendee_id, event_id, public_id, display_name
      FROM voting_attendee a JOIN voting_event e ON e.id = a.event_id
     WHERE e.slug = p_slug AND a.token_hash = p_token_hash AND p_token_hash <> '';
    IF NOT FOUND THEN
        outcome := 'no_attendee';
        RETURN;
    END IF;
    SELECT * INTO outcome, max_dots, budget, vote_proposals, vote_dots, own_proposals
      FROM unconf_set_dots(event_id, attendee_id, p_proposal, p_dots, p_now);
END
$$;
"""

FUNCTIONS = (
    "unconf_vote(text, text, bigint, integer, timestamptz)",
    "unconf_set_dots(bigint, bigint, bigint, integer, timestamptz)",
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SET_DOTS)
        schema_editor.execute(VOTE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for signature in FUNCTIONS:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {signature}")


class Migration(migrations.Migration):
    dependencies = [("voting", "0002_postgres_extras")]
    operations = [migrations.RunPython(forwards, backwards)]
