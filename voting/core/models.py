"""Model building blocks with no table of their own."""

from django.db import models


class DatabaseMaintained(models.Model):
    """A model with columns only the database writes: save() never writes them back.

    Without this, saving an instance read before a vote or a refund would put its stale
    counters back (the phantom counts of issue 13).
    """

    DATABASE_MAINTAINED: tuple[str, ...] = ("revision",)

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if not self._state.adding:
            if update_fields is None:
                update_fields = [f.name for f in self._meta.concrete_fields if not f.primary_key]
            update_fields = [name for name in update_fields if name not in self.DATABASE_MAINTAINED]
        super().save(*args, update_fields=update_fields, **kwargs)


def revision_field(default: int):
    return models.PositiveBigIntegerField(default=default, editable=False)
