"""`make test` (scripts/test.py): the static checks run in order, and the first that fails stops the run."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from scripts import test as make_test


class _Steps:
    """Stands in for run_step: records each step's name and answers with the given exit code."""

    def __init__(self, codes: dict[str, int]) -> None:
        self.codes = codes
        self.names: list[str] = []
        self.argv: dict[str, Sequence[str]] = {}

    def __call__(self, group: object, watch: object, name: str, label: str, argv: Sequence[str], *,
                 prefixed: bool = True) -> int:
        self.names.append(name)
        self.argv[name] = argv
        return self.codes.get(name, 0)


class _Stop(Exception):
    """Raised where the run would go on to the browser and the services."""


def _run(monkeypatch: pytest.MonkeyPatch, codes: dict[str, int]) -> tuple[int | None, _Steps]:
    steps = _Steps(codes)
    monkeypatch.setattr(make_test, "run_step", steps)

    def past_the_checks(**kwargs: object) -> None:
        raise _Stop

    monkeypatch.setattr(make_test, "ensure_chromium", past_the_checks)
    try:
        return make_test.main([]), steps
    except _Stop:
        return None, steps


def test_ruff_then_lint_imports_then_mypy_before_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    code, steps = _run(monkeypatch, {})
    assert code is None  # every check passed: the run went on to the browser
    assert steps.names == ["ruff", "lint-imports", "mypy"]
    assert os.path.basename(steps.argv["mypy"][0]) == "mypy"
    assert len(steps.argv["mypy"]) == 1  # what is checked lives in [tool.mypy], not on the command line


def test_a_type_error_stops_the_run_with_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, steps = _run(monkeypatch, {"mypy": 1})
    assert code == 1
    assert steps.names == ["ruff", "lint-imports", "mypy"]
    assert "make test: mypy found type errors (exit code 1); they are listed above." in capsys.readouterr().err


def test_an_upward_import_stops_the_run_before_mypy(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, steps = _run(monkeypatch, {"lint-imports": 1})
    assert code == 1
    assert steps.names == ["ruff", "lint-imports"]
    assert "lint-imports found an import that reaches up a layer" in capsys.readouterr().err


def test_a_ruff_finding_stops_the_run_before_the_layers(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, steps = _run(monkeypatch, {"ruff": 2})
    assert code == 1
    assert steps.names == ["ruff"]
    assert steps.argv["ruff"][1:] == ["check", "."]
    assert "make test: ruff found problems (exit code 2); they are listed above." in capsys.readouterr().err
