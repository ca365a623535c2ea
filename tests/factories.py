"""factory_boy factories shared by every test module."""

import factory
from django.conf import settings

from accounts.models import User
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
