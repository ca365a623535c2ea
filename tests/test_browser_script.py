"""scripts/browser.py: the Chromium that `make test` makes present for the browser tests."""

import pytest

from scripts import browser


def test_present_chromium_is_used_as_it_is(monkeypatch):
    monkeypatch.delenv("SATU_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "chromium_present", lambda path=None: True)
    monkeypatch.setattr(browser.subprocess, "run", lambda *a, **k: pytest.fail("nothing to install"))
    assert browser.ensure_chromium(say=lambda m: None) == "/usr/bin/chromium"


def test_missing_chromium_without_root_says_how_to_install_it(monkeypatch):
    monkeypatch.delenv("SATU_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "chromium_present", lambda path=None: False)
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(browser.subprocess, "run", lambda *a, **k: pytest.fail("must not run apt-get"))
    with pytest.raises(browser.BrowserError) as exc:
        browser.ensure_chromium(say=lambda m: None, is_root=False)
    message = str(exc.value)
    assert "sudo apt-get install -y chromium" in message and "/usr/bin/chromium" in message
    assert message.count(". ") == 0  # one sentence


def test_missing_chromium_as_root_is_installed_with_apt_update_only_when_needed(monkeypatch):
    monkeypatch.delenv("SATU_CHROMIUM", raising=False)
    installed = []
    monkeypatch.setattr(browser, "chromium_present", lambda path=None: bool(installed))
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}")
    calls = []

    class Done:
        returncode = 0
        stdout = "chromium:\n  Installed: (none)\n  Candidate: 156.0\n"

    def run(args, **kwargs):
        calls.append(args[1:])
        if args[1:] == ["install", "-y", "chromium"]:
            installed.append(True)
        return Done()

    monkeypatch.setattr(browser.subprocess, "run", run)
    assert browser.ensure_chromium(say=lambda m: None, is_root=True) == "/usr/bin/chromium"
    assert calls == [["policy", "chromium"], ["install", "-y", "chromium"]]  # lists knew it: no update


def test_a_wrong_satu_chromium_is_named(monkeypatch):
    monkeypatch.setenv("SATU_CHROMIUM", "/nowhere/chromium")
    with pytest.raises(browser.BrowserError, match="/nowhere/chromium"):
        browser.ensure_chromium(say=lambda m: None, is_root=True)
