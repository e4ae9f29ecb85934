"""PostgreSQL-only pieces: trigram similarity for duplicate hints, the state-version sequence."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS voting_state_version")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS voting_proposal_title_trgm "
        "ON voting_proposal USING gin (title gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS voting_proposal_title_trgm")
    schema_editor.execute("DROP SEQUENCE IF EXISTS voting_state_version")


class Migration(migrations.Migration):
    dependencies = [("voting", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
