"""MFA in a real browser: a regency admin without an authenticator is sent to enrol,
enrols with the secret the page shows, and from then on the login asks for the code. Every page
of the journey runs under the Content-Security-Policy (a violation fails the test)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from regencies.roles import Role
from tests.e2e.conftest import enter_totp_code, submit_password
from tests.factories import member, totp_code


@pytest.mark.django_db(transaction=True)
def test_admin_without_mfa_enrols_then_logs_in_with_a_code(new_context, password, regency_a):
    admin = member(regency_a, Role.REGENCY_ADMIN, email="admin.baru@example.test", mfa=False)
    page = new_context().new_page()
    submit_password(page, admin.email, password)

    # Any page: first enrol. allauth asks for the password again before showing the secret.
    page.goto("/r/luwu-utara/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    expect(page.locator(".totp-qr svg")).to_be_visible()
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.fill("input[name=code]", totp_code(secret))
    with page.expect_navigation():
        page.press("input[name=code]", "Enter")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    page.goto("/r/luwu-utara/")
    expect(page).to_have_url(re.compile(r"/r/luwu-utara/$"))

    # Next login: the password alone is not enough.
    second = new_context().new_page()
    submit_password(second, admin.email, password)
    expect(second).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    second.goto("/r/luwu-utara/")  # not in yet: back to the code
    expect(second).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    enter_totp_code(second, secret)
    second.goto("/r/luwu-utara/")
    expect(second).to_have_url(re.compile(r"/r/luwu-utara/$"))
