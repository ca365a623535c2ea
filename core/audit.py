"""Writing the audit trail: called by services inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from core.models import AuditEvent


def audit_record(
    *,
    actor: Any | None,
    verb: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    regency: Any | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event. `obj` names the object; or give `object_type`/`object_id`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        if regency is None:
            regency = getattr(obj, "regency", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        regency=regency,
        verb=verb,
        object_type=object_type or "",
        object_id=str(object_id or ""),
        before=before,
        after=after,
    )


def audit_history(*, object_type: str, object_id: str | int) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).select_related(
        "actor"
    ).order_by("created_at", "id")
