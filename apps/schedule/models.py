"""The public-schema due index: for each client and kind of timed work (reminders, campaigns…), when its next item
is due. A beat sweep reads one indexed query here and enters only the schemas with something due, instead of
querying every client schema on every tick (bench/reminders.py measures both)."""

from __future__ import annotations

from django.db import models


class DueWork(models.Model):
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="due_work")
    # "notices" (confirmations, reminders), "campaigns", "outbound" (calls the agent places)
    kind = models.CharField(max_length=24)
    next_at = models.DateTimeField(null=True, blank=True)  # None: nothing pending in that schema

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "kind"], name="schedule_one_due_per_kind")]
        indexes = [models.Index(fields=["kind", "next_at"], name="schedule_due_kind_next")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.kind} @ {self.next_at}"
