"""The tables the live state shows since 0006 and 0007 raise their event's revision too.

The feed's version is the sum of the revision columns (migration 0005, snapshots.StateClock):
every table whose rows a snapshot shows must raise its event's revision when they change, or
two messages could carry one version and two states. Co-hosts, availability and the reasons
sessions were left out (organizers' schedule view), check-ins (occupancy, `checked_in`) and
connected stages (`screens`, counted on connect and disconnect; a stage's heartbeat is not a
change). Stars and notes are not in the live state.
"""

from django.db import migrations

EVENT_TABLES = ("voting_cohost", "voting_unavailability", "voting_leftout")

PG = """
CREATE OR REPLACE FUNCTION unconf_checkin_touches_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE voting_event SET revision = revision + 1 WHERE id = (
        SELECT event_id FROM voting_proposal
         WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.proposal_id ELSE NEW.proposal_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER voting_checkin_touches_event AFTER INSERT OR UPDATE OR DELETE ON voting_checkin
    FOR EACH ROW EXECUTE FUNCTION unconf_checkin_touches_event();
CREATE TRIGGER voting_screen_touches_event AFTER INSERT OR DELETE ON voting_screen
    FOR EACH ROW EXECUTE FUNCTION unconf_touch_event();
""" + "".join(
    f"CREATE TRIGGER {table}_touches_event AFTER INSERT OR UPDATE OR DELETE ON {table}\n"
    "    FOR EACH ROW EXECUTE FUNCTION unconf_touch_event();\n"
    for table in EVENT_TABLES
)

PG_DROP = (
    "DROP TRIGGER IF EXISTS voting_checkin_touches_event ON voting_checkin;\n"
    "DROP TRIGGER IF EXISTS voting_screen_touches_event ON voting_screen;\n"
    "DROP FUNCTION IF EXISTS unconf_checkin_touches_event();\n"
    + "".join(f"DROP TRIGGER IF EXISTS {table}_touches_event ON {table};\n" for table in EVENT_TABLES)
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG)  # SQLite: voting/sqlite_triggers.py


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("voting", "0007_sessions_live")]
    operations = [migrations.RunPython(forwards, backwards)]
