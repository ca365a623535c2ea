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


class RegencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Regency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"9{n % 10}.{(n // 10) % 90 + 10:02d}")
    name = factory.Sequence(lambda n: f"Uji {n}")
    slug = factory.Sequence(lambda n: f"uji-{n}")
    timezone = "Asia/Makassar"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BpjsBranch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cabang-{n}")
    name = factory.Sequence(lambda n: f"KC Uji {n}")
    timezone = "Asia/Makassar"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    regency = factory.SubFactory(RegencyFactory)
    name = factory.Sequence(lambda n: f"Kecamatan {n}")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    district = factory.SubFactory(DistrictFactory)
    regency = factory.SelfAttribute("district.regency")
    name = factory.Sequence(lambda n: f"Desa {n}")


class FamilyFactory(factory.django.DjangoModelFactory):
    """A Kartu Keluarga of a regency (pass `regency=`; `village=` optional)."""

    class Meta:
        model = Family

    regency = factory.SubFactory(RegencyFactory)
    number = factory.Sequence(lambda n: f"{7322010000000000 + n:016d}")


class ParticipantFactory(factory.django.DjangoModelFactory):
    """A participant in arrears. Pass `regency=` (and `family=`, `district=`, `village=` as
    needed); identifiers are unique 13/16-digit strings."""

    class Meta:
        model = Participant

    regency = factory.SubFactory(RegencyFactory)
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


def member(regency, role, email=None, **user_kwargs):
    """A user holding `role` in `regency`."""
    user = UserFactory(**({"email": email} if email else {}), **user_kwargs)
    Membership.objects.create(regency=regency, user=user, role=role)
    return user


def branch_admin(branch, email=None):
    user = UserFactory(**({"email": email} if email else {}))
    BranchMembership.objects.create(branch=branch, user=user)
    return user


__all__ = ["PASSWORD", "settings"]
