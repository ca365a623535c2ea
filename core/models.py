"""The append-only audit trail. Rows are never updated or deleted: the database refuses it."""

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    # The actor is null for the system (imports, reconciliation runs, scheduled jobs), so the
    # actor index leaves those out; the regency is not indexed (see created_at). No DB constraint
    # on these keys: the deferred RI checks at commit cost ~0.3 s per 50,000 events when events
    # were written in bulk (bench/README.md); PROTECT still holds in Django, and events are never
    # changed.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    regency = models.ForeignKey(
        "regencies.Regency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    verb = models.CharField(_("tindakan"), max_length=60)
    object_type = models.CharField(_("jenis objek"), max_length=60)
    object_id = models.CharField(_("id objek"), max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Events are appended in time order, so a BRIN index (a few pages, next to nothing to keep up
    # per event) serves date ranges; lists are read newest first by id (the admin), an object's
    # history through the object index. Nothing in the app reads events by regency (the admin's
    # regency filter walks the id order): a btree on it would cost every event one more index
    # entry.
    created_at = models.DateTimeField(_("waktu"), auto_now_add=True)

    class Meta:
        verbose_name = _("jejak audit")
        verbose_name_plural = _("jejak audit")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "created_at"]),
            models.Index(
                fields=["actor"], name="auditevent_actor", condition=models.Q(actor__isnull=False)
            ),
            BrinIndex(fields=["created_at"], name="auditevent_created_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AuditImmutable("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutable("Audit events are append-only.")


class AuditImmutable(Exception):
    pass


class OutboxMessage(models.Model):
    """A Celery task to send once the transaction that wrote it has committed (core.outbox).

    Written in the caller's transaction, so the work exists exactly when the change that needs it
    does; sent right after the commit, or by the relay (`relay_outbox`, the beat job) when the
    broker was away. Tasks are idempotent: a row sent twice is harmless, a row never sent is not.
    """

    task = models.CharField(_("tugas"), max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(_("antrean"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    sent_at = models.DateTimeField(_("dikirim"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("percobaan"), default=0)
    last_error = models.TextField(_("kesalahan terakhir"), blank=True)

    class Meta:
        verbose_name = _("pesan outbox")
        verbose_name_plural = _("pesan outbox")
        ordering = ["id"]
        indexes = [
            # The relay reads unsent rows oldest first; sent rows (nearly all) stay out of it.
            models.Index(fields=["id"], name="outbox_unsent", condition=models.Q(sent_at__isnull=True)),
            models.Index(fields=["sent_at"], name="outbox_sent_at", condition=models.Q(sent_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
