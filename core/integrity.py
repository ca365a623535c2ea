"""Integrity checks of the tables the database does not guard (`manage.py check_integrity`).

The bulk tables carry foreign keys without database constraints (`db_constraint=False`): their
writers join every id to an existing row, and nothing else proves it afterwards. This module
does, one set-based statement per check, whatever the number of rows:

- every unconstrained foreign key of every installed model is checked here, found through the
  app registry (so a new one is checked without being listed): rows whose referenced row does
  not exist;
- each app adds the checks only it can state (a row's regency equals its parent's regency, the
  money ledger adds up) in its own `integrity.py`, which calls `register`. `run` imports those
  modules by name (`autodiscover_modules`), so this lower layer imports no higher app.

A check is a statement that returns one integer: the number of bad rows (0 = the check passes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.utils.module_loading import autodiscover_modules
from psycopg2 import sql

from core.audit import audit_record

logger = logging.getLogger(__name__)
Statement = tuple[sql.Composable, dict[str, Any] | None]


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    build: Callable[[], Statement]


_REGISTRY: dict[str, Check] = {}


def register(name: str, description: str) -> Callable[[Callable[[], Statement]], Callable[[], Statement]]:
    """Decorator: `build()` returns (statement, params); the statement selects one count."""

    def decorate(build: Callable[[], Statement]) -> Callable[[], Statement]:
        _REGISTRY[name] = Check(name=name, description=description, build=build)
        return build

    return decorate


def table(model: type[models.Model]) -> sql.Identifier:
    return sql.Identifier(model._meta.db_table)


def column(model: type[models.Model], field: str) -> sql.Identifier:
    found = model._meta.get_field(field)
    if not isinstance(found, models.Field):
        raise TypeError(f"{model._meta.label}.{field} is not a column")
    return sql.Identifier(found.column)


def register_same_regency(model: type[models.Model], field_name: str) -> None:
    """Check that `model.<field_name>` (a key to another tenant row) names a row of the same
    regency: rows whose parent belongs to another regency."""
    field = model._meta.get_field(field_name)
    parent = field.related_model
    if not isinstance(field, models.ForeignKey) or not isinstance(parent, type):
        raise TypeError(f"{model._meta.label}.{field_name} is not a key to another model")
    name = f"regency:{model._meta.db_table}.{field.column}"

    def build() -> Statement:
        return sql.SQL(
            "SELECT count(*) FROM {t} AS c JOIN {pt} AS p ON p.{pk} = c.{col}"
            " WHERE p.{preg} IS DISTINCT FROM c.{creg}"
        ).format(t=table(model), pt=table(parent), pk=sql.Identifier(field.target_field.column),
                 col=sql.Identifier(field.column), preg=column(parent, "regency"),
                 creg=column(model, "regency")), None

    _REGISTRY[name] = Check(name=name, build=build,
                            description=f"{model._meta.label}.{field_name}: another regency's row")


def _unconstrained_keys() -> Iterable[tuple[type[models.Model], models.ForeignKey]]:
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        for field in meta.local_concrete_fields:
            # db_constraint is set by ForeignKey.__init__; the stubs name it only as an argument.
            if isinstance(field, models.ForeignKey) and not field.db_constraint:  # type: ignore[attr-defined]
                yield model, field


def _orphan_check(model: type[models.Model], field: models.ForeignKey) -> Check:
    target = field.target_field

    def build() -> Statement:
        return sql.SQL(
            "SELECT count(*) FROM {t} AS c WHERE c.{col} IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM {rt} AS r WHERE r.{rcol} = c.{col})"
        ).format(t=table(model), col=sql.Identifier(field.column),
                 rt=sql.Identifier(target.model._meta.db_table), rcol=sql.Identifier(target.column)), None

    return Check(
        name=f"orphan:{model._meta.db_table}.{field.column}",
        description=f"{model._meta.label}.{field.name} -> {target.model._meta.label} (no row)",
        build=build,
    )


def checks() -> list[Check]:
    """Every check: the unconstrained keys first, then what the apps registered."""
    autodiscover_modules("integrity")
    found = [_orphan_check(model, field) for model, field in _unconstrained_keys()]
    return found + [_REGISTRY[name] for name in sorted(_REGISTRY)]


@dataclass
class Report:
    checks: dict[str, int]
    seconds: float
    descriptions: dict[str, str]

    @property
    def ok(self) -> bool:
        return not any(self.checks.values())

    @property
    def failed(self) -> dict[str, int]:
        return {name: count for name, count in self.checks.items() if count}

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks, "seconds": round(self.seconds, 3)}


def run(*, only: Iterable[str] | None = None) -> Report:
    """Run every check (or those named in `only`): one query each."""
    wanted = set(only) if only is not None else None
    started = time.monotonic()
    counts: dict[str, int] = {}
    descriptions: dict[str, str] = {}
    with connection.cursor() as cur:
        for check in checks():
            if wanted is not None and check.name not in wanted:
                continue
            statement, params = check.build()
            cur.execute(statement, params)
            (count,) = cur.fetchone()
            counts[check.name] = int(count or 0)
            descriptions[check.name] = check.description
    return Report(checks=counts, seconds=time.monotonic() - started, descriptions=descriptions)


def run_and_record() -> dict[str, Any]:
    """Run every check; a failure is an `integrity.failed` audit event (the operator's admin lists
    it) and an error in the log. Returns the JSON report."""
    report = run()
    if not report.ok:
        logger.error(
            "integrity checks failed: %s", ", ".join(f"{k}={v}" for k, v in report.failed.items()))
        audit_record(actor=None, verb="integrity.failed", object_type="integrity", object_id="check_integrity",
                     after={"failed": report.failed, "seconds": round(report.seconds, 3)})
    return report.as_json()
