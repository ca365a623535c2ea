"""Row-level tenancy: the base every tenant-owned model inherits.

`Model.objects` fails closed: it cannot be queried without a regency
(`Participant.objects.for_regency(regency)`). The escape hatch is the manager
`Model.all_regencies`, named so that it stands out in review; only imports,
reconciliation, the admin and Django's own machinery (related managers,
validators) use it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models
from django.utils import translation
from django.utils.encoding import force_str

_M = TypeVar("_M", bound="TenantModel")


class TenantScopeRequired(Exception):
    """A tenant model was queried without naming the regency."""


class TenantManager(models.Manager[_M]):
    """Default manager of tenant models: every query starts from `for_regency`."""

    def get_queryset(self) -> models.QuerySet[_M]:
        raise TenantScopeRequired(
            f"{self.model.__name__}.objects needs a regency: use "
            f"{self.model.__name__}.objects.for_regency(regency), or the explicit "
            f"{self.model.__name__}.all_regencies manager where a cross-regency query is intended."
        )

    def for_regency(self, regency: models.Model | int) -> models.QuerySet[_M]:
        if regency is None or (isinstance(regency, models.Model) and regency.pk is None):
            raise TenantScopeRequired(f"{self.model.__name__}: regency is missing.")
        return super().get_queryset().filter(regency=regency)

    def none(self) -> models.QuerySet[_M]:
        """An empty queryset leaks nothing (form fields start with one)."""
        return super().get_queryset().none()

    def create(self, **kwargs: Any) -> _M:
        if kwargs.get("regency") is None and kwargs.get("regency_id") is None:
            raise TenantScopeRequired(f"{self.model.__name__}.objects.create needs a regency.")
        return super().get_queryset().create(**kwargs)

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        objs = list(objs)
        if any(obj.regency_id is None for obj in objs):
            raise TenantScopeRequired(f"{self.model.__name__}.objects.bulk_create: a row has no regency.")
        return super().get_queryset().bulk_create(objs, *args, **kwargs)


@functools.cache
def _choice_labels(field: models.Field, language: str | None) -> dict[Any, str]:
    """The field's choices as {value: label translated into `language`}, once per process and
    language (the catalogs do not change while a process runs)."""
    with translation.override(language):
        return {value: str(label) for value, label in field.flatchoices}


class TenantModel(models.Model):
    """Abstract base: a non-null regency, a fail-closed manager and an explicit escape hatch."""

    # No single-column index: every tenant table has composite indexes that start with regency.
    regency = models.ForeignKey(
        "regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    objects = TenantManager()
    all_regencies = models.Manager()  # noqa: DJ012

    class Meta:
        abstract = True
        # Django's own machinery (related managers, admin, unique validators) uses
        # the plain manager; it always works through a relation or a primary key.
        default_manager_name = "all_regencies"
        base_manager_name = "all_regencies"

    def _get_FIELD_display(self, field: models.Field) -> str:
        """`get_<field>_display()` with the field's choices read into a dict once per process.

        Django's own builds that dict on every call and hashes each lazy label on the way,
        which translates every choice of the field to show one: a list page of 50 rows
        spent more time there than in its SQL. The labels are kept per language, so the one
        shown is in the language of the request that shows it.
        """
        value = getattr(self, field.attname)
        label = _choice_labels(field, translation.get_language()).get(value)
        return label if label is not None else force_str(value, strings_only=True)
