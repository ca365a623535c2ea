"""MFA (issue 17): allauth's TOTP + recovery codes, required for every role except donors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest
from allauth.mfa.models import Authenticator

from accounts import mfa
from tests.factories import UserFactory

SECRET = "JBSWY3DPEHPK3PXP"


def totp(secret: str, at: float | None = None, step_offset: int = 0) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), computed here independently of allauth."""
    counter = int((time.time() if at is None else at) // 30) + step_offset
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_totp_helper_matches_rfc_6238_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) -> 287082 with 6 digits.
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(rfc_secret, at=59) == "287082"


# --- the functions the token endpoint uses ------------------------------------------------

@pytest.fixture
def enrolled(db):
    user = UserFactory()
    mfa.enrol_totp(user, SECRET)
    return user


def test_user_without_authenticator_has_no_mfa_and_no_code_verifies(db):
    user = UserFactory()
    assert mfa.user_has_mfa(user) is False
    assert mfa.verify_code(user, totp(SECRET)) is False


def test_enrolled_user_has_mfa_stored_the_allauth_way(enrolled):
    assert mfa.user_has_mfa(enrolled) is True
    stored = Authenticator.objects.get(user=enrolled, type=Authenticator.Type.TOTP)
    from allauth.mfa.utils import decrypt

    assert decrypt(stored.data["secret"]) == SECRET
    assert Authenticator.objects.filter(user=enrolled, type=Authenticator.Type.RECOVERY_CODES).exists()


def test_current_totp_code_verifies_once_wrong_code_never(enrolled):
    assert mfa.verify_code(enrolled, "000000" if totp(SECRET) != "000000" else "111111") is False
    assert mfa.verify_code(enrolled, "") is False
    code = totp(SECRET)
    assert mfa.verify_code(enrolled, code) is True
    # The same code cannot be replayed within its period.
    assert mfa.verify_code(enrolled, code) is False
    assert Authenticator.objects.get(user=enrolled, type=Authenticator.Type.TOTP).last_used_at is not None


def test_code_of_another_secret_is_refused(enrolled):
    other = base64.b32encode(b"another-secret-0123").decode()
    code = totp(other)
    if code != totp(SECRET):
        assert mfa.verify_code(enrolled, code) is False


def test_recovery_code_works_once(enrolled):
    codes = mfa.recovery_codes(enrolled)
    assert len(codes) == 10
    assert mfa.verify_code(enrolled, codes[0]) is True
    assert mfa.verify_code(enrolled, codes[0]) is False
    assert codes[0] not in mfa.recovery_codes(enrolled)
    assert mfa.verify_code(enrolled, codes[1]) is True


def test_enrol_is_idempotent(enrolled):
    mfa.enrol_totp(enrolled, SECRET)
    assert Authenticator.objects.filter(user=enrolled).count() == 2  # TOTP + recovery codes


def test_reset_removes_every_authenticator(enrolled):
    assert mfa.reset(enrolled) == 2
    assert mfa.user_has_mfa(enrolled) is False
    assert mfa.verify_code(enrolled, totp(SECRET)) is False
