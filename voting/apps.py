from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate


def _drop_sqlite_triggers(using, **kwargs):
    if connections[using].vendor == "sqlite":
        from voting.votes import sqlite_triggers

        sqlite_triggers.drop(connections[using])


def _create_sqlite_triggers(using, **kwargs):
    if connections[using].vendor == "sqlite":
        from voting.votes import sqlite_triggers

        sqlite_triggers.create(connections[using])


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = "Unconf voting"

    def ready(self):
        # SQLite keeps its counting triggers outside the migrations: voting/votes/sqlite_triggers.py.
        pre_migrate.connect(_drop_sqlite_triggers, sender=self)
        post_migrate.connect(_create_sqlite_triggers, sender=self)
