"""factory_boy factories shared by every test module."""

import datetime
import hashlib

import factory
from django.conf import settings
from django.core.files.base import ContentFile

from accounts.models import User
from participants.models import (
    ArrearsImport,
    CareClass,
    Family,
    ImportMode,
    ImportStatus,
    Participant,
    ParticipantStatus,
    Relationship,
    Segment,
    Sex,
)
from regencies.models import BpjsBranch, BranchMembership, District, Membership, Regency, Village

PASSWORD = "sandi-uji-yang-panjang"
# The TOTP secret of every user the factories enrol (MFA is required for staff and every role).
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name", locale="id_ID")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        """TOTP (TOTP_SECRET) enrolled: `mfa=True`, or by default for staff (who must use MFA)."""
        if create and (extracted or (extracted is None and (self.is_staff or self.is_superuser))):
            from accounts.mfa import enrol_totp

            enrol_totp(self, TOTP_SECRET)


class _PlaceFactory(factory.django.DjangoModelFactory):
    """A regency or a BPJS branch: found again by its code, in WITA."""

    class Meta:
        abstract = True
        django_get_or_create = ("code",)

    timezone = "Asia/Makassar"


class RegencyFactory(_PlaceFactory):
    class Meta:
        model = Regency

    code = factory.Sequence(lambda n: f"9{n % 10}.{(n // 10) % 90 + 10:02d}")
    name = factory.Sequence(lambda n: f"Uji {n}")
    slug = factory.Sequence(lambda n: f"uji-{n}")


class BranchFactory(_PlaceFactory):
    class Meta:
        model = BpjsBranch

    code = factory.Sequence(lambda n: f"cabang-{n}")
    name = factory.Sequence(lambda n: f"KC Uji {n}")


class _InRegencyFactory(factory.django.DjangoModelFactory):
    """Tenant data: a new regency unless `regency=` is passed."""

    class Meta:
        abstract = True

    regency = factory.SubFactory(RegencyFactory)


class DistrictFactory(_InRegencyFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"Kecamatan {n}")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    district = factory.SubFactory(DistrictFactory)
    regency = factory.SelfAttribute("district.regency")
    name = factory.Sequence(lambda n: f"Desa {n}")


class FamilyFactory(_InRegencyFactory):
    """A Kartu Keluarga of a regency (pass `regency=`; `village=` optional)."""

    class Meta:
        model = Family

    number = factory.Sequence(lambda n: f"{7322010000000000 + n:016d}")


class ParticipantFactory(_InRegencyFactory):
    """A participant in arrears. Pass `regency=` (and `family=`, `district=`, `village=` as
    needed); identifiers are unique 13/16-digit strings."""

    class Meta:
        model = Participant

    card_number = factory.Sequence(lambda n: f"{1000000000 + n:013d}")
    nik = factory.Sequence(lambda n: f"{7322014101800000 + n:016d}")
    name = factory.Faker("name", locale="id_ID")
    birth_date = factory.Faker("date_of_birth", minimum_age=1, maximum_age=80)
    sex = Sex.FEMALE
    relationship = Relationship.HEAD
    care_class = CareClass.III
    segment = Segment.PBPU
    months_in_arrears = 6
    arrears_amount = 210_000
    status = ParticipantStatus.INACTIVE


class ArrearsImportFactory(factory.django.DjangoModelFactory):
    """An arrears list uploaded for a branch (pass `branch=`); the file is a tiny CSV."""

    class Meta:
        model = ArrearsImport

    branch = factory.SubFactory(BranchFactory)
    original_name = factory.Sequence(lambda n: f"tunggakan-{n}.csv")
    file = factory.LazyAttribute(
        lambda o: ContentFile(b"no_kartu;nik;nama\n", name=o.original_name)
    )
    sha256 = factory.Sequence(lambda n: hashlib.sha256(f"import-{n}".encode()).hexdigest())
    size_bytes = 18
    as_of = factory.LazyFunction(datetime.date.today)
    mode = ImportMode.FULL
    status = ImportStatus.QUEUED


def totp_code(secret: str = TOTP_SECRET, at: float | None = None) -> str:
    """The current TOTP code of `secret`: RFC 6238 (HMAC-SHA-1, 30 s, 6 digits), computed here
    independently of allauth."""
    import base64
    import hmac
    import struct
    import time

    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def operator(email="operator@example.test", **user_kwargs):
    """The national operator (staff and superuser), with TOTP enrolled."""
    return UserFactory(email=email, is_staff=True, is_superuser=True, **user_kwargs)


def member(regency, role, email=None, mfa=True, **user_kwargs):
    """A user holding `role` in `regency`, with TOTP enrolled (every role must use MFA)."""
    user = UserFactory(**({"email": email} if email else {}), mfa=mfa, **user_kwargs)
    Membership.objects.create(regency=regency, user=user, role=role)
    return user


def branch_admin(branch, email=None, mfa=True):
    """A BPJS admin of `branch`, with TOTP enrolled."""
    user = UserFactory(**({"email": email} if email else {}), mfa=mfa)
    BranchMembership.objects.create(branch=branch, user=user)
    return user


def api_token_for(user, name: str = "uji") -> str:
    """A new API token of `user`: the secret, as the client sends it (`Token <secret>`)."""
    from accounts.tokens import token_create

    return token_create(user=user, name=name)[1]


def api_client_for(user, client=None):
    """An APIClient (or `client`) that sends a new token of `user` with every request."""
    from rest_framework.test import APIClient

    client = client or APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


__all__ = ["PASSWORD", "TOTP_SECRET", "settings"]
