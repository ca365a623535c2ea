"""`make test`: ruff, lint-imports (the layers), mypy (the types), then pytest, against
DATABASE_URL / REDIS_URL or embedded services.

Without DATABASE_URL an embedded PostgreSQL is started with its data in
`var/test-postgres/` (Redis: `var/test-redis/`), separate from `make run`'s data;
pytest-django creates and drops its own `test_<name>` database on it. Extra
arguments go to pytest (`make test ARGS='-k tenancy -x'`). pytest's exit code 5
(no tests collected) counts as a failure.

Before pytest, the Chromium of the browser tests (tests/e2e) is made present:
installed with apt-get when missing and we are root, otherwise a one-sentence
error (scripts/browser.py). The e2e tests and the schemathesis run are part of
the same pytest run (`make test ARGS='-m "not e2e"'` leaves the browser out).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from scripts.browser import BrowserError, ensure_chromium
from scripts.procs import ProcessGroup, SignalWatch, StopRequested, run_step
from scripts.services import VAR, ServiceError, start_services

# pytest runs with these settings whatever the shell exports (pytest-django prefers the
# environment variable to pyproject.toml's): under config.settings.dev, common in Django work,
# tasks stop being eager and e-mail goes to the console, and the tests relying on either fail.
TEST_SETTINGS = "config.settings.test"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def pytest_env(services_env: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the pytest child: the shell's, the services' URLs, the test settings."""
    return {**(os.environ if environ is None else environ), **services_env,
            "DJANGO_SETTINGS_MODULE": TEST_SETTINGS, "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class Check:
    """One static check: the announcement, the executable next to python, and what a failure says."""

    name: str
    heading: str
    args: tuple[str, ...]
    failure: str  # one sentence; {code} is the exit code


# In order; the first that fails stops the run. `[tool.mypy]` in pyproject.toml says what mypy
# checks; its cache (var/mypy-cache) keeps a repeat run to seconds. The Django plugin imports
# config.settings.test, whatever the shell says.
CHECKS = (
    Check("ruff", "ruff check .", ("check", "."),
          "ruff found problems (exit code {code}); they are listed above."),
    Check("lint-imports", "lint-imports (the layers contract in pyproject.toml)", ("--no-cache",),
          "lint-imports found an import that reaches up a layer (exit code {code}); it is listed above."),
    Check("mypy", "mypy (the types, [tool.mypy] in pyproject.toml)", (),
          "mypy found type errors (exit code {code}); they are listed above."),
)


def main(argv: list[str] | None = None) -> int:
    pytest_args = sys.argv[1:] if argv is None else argv
    watch = SignalWatch()
    python = sys.executable
    bin_dir = os.path.dirname(python)

    group = ProcessGroup(env=dict(os.environ))
    for check in CHECKS:
        say(check.heading)
        try:
            code = run_step(group, watch, check.name, check.name,
                            [os.path.join(bin_dir, check.name), *check.args], prefixed=False)
        except StopRequested:
            return 130
        if code != 0:
            print("\nmake test: " + check.failure.format(code=code), file=sys.stderr)
            return 1

    say("Chromium for the browser tests")
    try:
        ensure_chromium(say=say)
    except BrowserError as exc:
        print(f"\nmake test: {exc}", file=sys.stderr)
        return 1

    services = None
    try:
        (VAR / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT: WhiteNoise warns when absent
        say("Services")
        services = start_services(pg_dir=VAR / "test-postgres", redis_dir=VAR / "test-redis",
                                  database="satu", command="make test", need_database=False)
        group = ProcessGroup(env=pytest_env(services.env))
        say("pytest " + " ".join(pytest_args))
        code = run_step(group, watch, "pytest", "pytest",
                        [python, "-m", "pytest", *pytest_args], prefixed=False)
    except ServiceError as exc:
        print(f"\nmake test: {exc}", file=sys.stderr)
        return 1
    except StopRequested:
        return 130
    finally:
        if services is not None:
            services.stop()
    if code == 5:
        print("\nmake test: pytest collected no tests (exit code 5), which counts as a failure.",
              file=sys.stderr)
        return 1
    if code != 0:
        print(f"\nmake test: pytest failed (exit code {code}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
