"""Rounds (contract 5.1): an event runs one voting round after another.

Every event gets round 1, and everything it already has belongs to it: its proposals, slots
and ledger. The vote function now writes the round into each ledger row and refuses
(`not_votable`) to add dots to a proposal scheduled in an earlier round. The counting
triggers are unchanged: the vote rows are the current round's; starting a round moves them
to RoundVote (services.start_round), and the counters follow them back to zero.
"""

import django.db.models.deletion
from django.db import migrations, models

PG_SET_DOTS = """
CREATE OR REPLACE FUNCTION unconf_set_dots(
    p_event bigint, p_attendee bigint, p_proposal bigint, p_dots integer, p_now timestamptz,
    OUT outcome text, OUT max_dots integer, OUT budget integer,
    OUT vote_proposals bigint[], OUT vote_dots integer[], OUT own_proposals bigint[]
) LANGUAGE plpgsql AS $$
DECLARE
    is_open boolean;
    closes_at timestamptz;
    this_round bigint;
    before integer;
    spent_elsewhere integer;
    proposal_status text;
    done_in bigint;
BEGIN
    SELECT voting_open, voting_closes_at, max_dots_per_proposal, votes_per_attendee, current_round_id
      INTO is_open, closes_at, max_dots, budget, this_round
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
        SELECT status, done_in_round_id INTO proposal_status, done_in
          FROM voting_proposal WHERE id = p_proposal AND event_id = p_event FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            outcome := 'no_proposal';
            RETURN;
        END IF;
        -- Taking dots back is always allowed; adding needs a published proposal of this round.
        IF p_dots > before AND done_in IS NOT NULL THEN
            outcome := 'not_votable';
            RETURN;
        END IF;
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
            (event_id, round_id, created_at, attendee_id, proposal_id, dots_before, dots_after, cause)
        VALUES (p_event, this_round, p_now, p_attendee, p_proposal, before, p_dots, 'vote');
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


def round_one_for_everything(apps, schema_editor):
    Event = apps.get_model("voting", "Event")
    Round = apps.get_model("voting", "Round")
    if schema_editor.connection.vendor == "postgresql":
        # Check the new foreign keys now, not at commit: the ALTER TABLE that follows in this
        # transaction refuses to run with deferred checks pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for event in Event.objects.all():
        first = Round.objects.create(event=event, number=1, name="Round 1", started_at=event.created_at)
        Event.objects.filter(pk=event.pk).update(current_round=first)
        for model in ("Proposal", "Slot", "LedgerEntry"):
            apps.get_model("voting", model).objects.filter(event=event).update(round=first)


def set_dots_with_rounds(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SET_DOTS)


def set_dots_without_rounds(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        previous = import_module("voting.migrations.0005_counts_from_votes")
        schema_editor.execute(previous.PG_SET_DOTS)


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0008_live_tables_touch_event"),
    ]

    operations = [
        migrations.CreateModel(
            name="Round",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField()),
                ("name", models.CharField(max_length=80)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                ("schedule_published", models.BooleanField(default=False)),
                ("results_revealed", models.BooleanField(default=False)),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="rounds", to="voting.event"
                    ),
                ),
            ],
            options={
                "ordering": ["number"],
            },
        ),
        migrations.AddField(
            model_name="event",
            name="current_round",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="voting.round",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="round",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="voting.round"
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="done_in_round",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="voting.round",
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="round",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="voting.round",
            ),
        ),
        migrations.AddField(
            model_name="slot",
            name="round",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="slots",
                to="voting.round",
            ),
        ),
        migrations.CreateModel(
            name="RoundVote",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dots", models.PositiveSmallIntegerField()),
                (
                    "attendee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="voting.attendee"
                    ),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="voting.proposal"
                    ),
                ),
                (
                    "round",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="votes", to="voting.round"
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="round",
            constraint=models.UniqueConstraint(fields=("event", "number"), name="one_round_number_per_event"),
        ),
        migrations.AddConstraint(
            model_name="roundvote",
            constraint=models.UniqueConstraint(
                fields=("round", "attendee", "proposal"), name="one_round_vote_per_pair"
            ),
        ),
        migrations.RunPython(round_one_for_everything, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="ledgerentry",
            name="round",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="voting.round"
            ),
        ),
        migrations.RunPython(set_dots_with_rounds, set_dots_without_rounds),
    ]
