"""The Chromium that the browser tests (tests/e2e) drive: Debian's, at /usr/bin/chromium.

Playwright's own browser download is not used (it needs a CDN at test time and
its builds do not run everywhere); the Python package only brings its driver.
`ensure_chromium()` is what `make test` runs first: nothing when Chromium is
there; as root, `apt-get install -y chromium` (with `apt-get update` only when
the package lists do not know it yet); otherwise one sentence saying how to
install it. `SATU_CHROMIUM` points at another Chromium binary.

Standard library only: imported by scripts/test.py before anything is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class BrowserError(Exception):
    """Chromium is missing and cannot be installed here: one sentence saying what to do."""


def chromium_path() -> str:
    return os.environ.get("SATU_CHROMIUM") or DEFAULT_CHROMIUM


def chromium_present(path: str | None = None) -> bool:
    path = path or chromium_path()
    return Path(path).is_file() and os.access(path, os.X_OK)


def _apt_knows_chromium() -> bool:
    """True when the package lists have a candidate for `chromium` (no update needed)."""
    apt_cache = shutil.which("apt-cache")
    if apt_cache is None:
        return False
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [apt_cache, "policy", "chromium"], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and "Candidate:" in result.stdout and "Candidate: (none)" not in result.stdout


def ensure_chromium(*, say=print, is_root: bool | None = None) -> str:
    """The path of a runnable Chromium, installing Debian's package when possible."""
    path = chromium_path()
    if chromium_present(path):
        return path
    if path != DEFAULT_CHROMIUM:
        raise BrowserError(
            f"SATU_CHROMIUM points at {path}, which is not an executable file: "
            "correct it or unset it to use Debian's /usr/bin/chromium."
        )
    is_root = os.geteuid() == 0 if is_root is None else is_root
    apt_get = shutil.which("apt-get")
    if not is_root or apt_get is None:
        how = ("sudo apt-get install -y chromium" if apt_get
               else "your system's package manager (the package is usually called chromium)")
        raise BrowserError(
            f"The browser tests need Chromium at {DEFAULT_CHROMIUM}, which is not installed: "
            f"install it with `{how}` and run make test again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_knows_chromium():
        say("apt-get update (the package lists do not know chromium yet)")
        subprocess.run([apt_get, "update"],  # noqa: S603 - fixed arguments
                       env=env, check=False, stdout=subprocess.DEVNULL)
    say("apt-get install -y chromium (for the browser tests; once)")
    result = subprocess.run([apt_get, "install", "-y", "chromium"],  # noqa: S603 - fixed arguments
                            env=env, check=False, stdout=subprocess.DEVNULL)
    if result.returncode != 0 or not chromium_present(path):
        raise BrowserError(
            f"`apt-get install -y chromium` failed (exit code {result.returncode}); its messages are "
            "above: fix the cause (network, package sources) and run make test again."
        )
    return path
