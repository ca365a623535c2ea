"""What a donor may see of a participant (UU 27/2022): a pseudonym, an age band, the place,
the class and the arrears. Never the NIK, the card number or the full name.

Used by the campaigns API (`GET campaigns/{slug}/participants/`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from django.utils import timezone
from rest_framework import serializers

from participants.models import Participant

# Syllables for a generated name when a participant's name yields no initials.
_SYLLABLES = ("ra", "di", "ma", "sa", "tu", "ni", "ka", "lo", "we", "ba", "ri", "ya", "an", "si", "mu", "de")


def _initials(name: str, *, limit: int = 3) -> str:
    letters = [word[0].upper() for word in name.split() if word[:1].isalpha()]
    return "".join(f"{letter}." for letter in letters[:limit])


def _generated(public_id: uuid.UUID | str) -> str:
    digest = hashlib.sha256(str(public_id).encode()).digest()
    word = "".join(_SYLLABLES[b % len(_SYLLABLES)] for b in digest[:3])
    return word.capitalize()


def pseudonym(participant: Participant) -> str:
    """Initials of the name (`Andi Sulaiman` -> `A.S.`), or a name generated from `public_id`."""
    return _initials(participant.name or "") or _generated(participant.public_id)


def age_band(birth_date: dt.date | None, today: dt.date) -> str:
    """A ten-year band (`30-39`); `80+` from 80; empty when the birth date is unknown."""
    if birth_date is None or birth_date > today:
        return ""
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age >= 80:
        return "80+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


class DonorParticipantSerializer(serializers.Serializer):
    """The donor-facing field set. `family_size` comes from an annotation
    (`participants.selectors.family_size_subquery()`), else 1."""

    public_id = serializers.UUIDField(read_only=True)
    pseudonym = serializers.SerializerMethodField()
    age_band = serializers.SerializerMethodField()
    district = serializers.SerializerMethodField()
    village = serializers.SerializerMethodField()
    care_class = serializers.IntegerField(read_only=True)
    family_size = serializers.SerializerMethodField()
    months_in_arrears = serializers.IntegerField(read_only=True)
    arrears_amount = serializers.IntegerField(read_only=True)

    def _today(self) -> dt.date:
        today = self.context.get("today")
        if today is None:
            today = timezone.localdate()
            self.context["today"] = today
        return today

    def get_pseudonym(self, obj: Participant) -> str:
        return pseudonym(obj)

    def get_age_band(self, obj: Participant) -> str:
        return age_band(obj.birth_date, self._today())

    def get_district(self, obj: Participant) -> str:
        return obj.district.name if obj.district is not None else ""

    def get_village(self, obj: Participant) -> str:
        return obj.village.name if obj.village is not None else ""

    def get_family_size(self, obj: Participant) -> int:
        return int(getattr(obj, "family_size", None) or 1)


DONOR_FIELDS: tuple[str, ...] = (
    "public_id", "pseudonym", "age_band", "district", "village", "care_class", "family_size",
    "months_in_arrears", "arrears_amount",
)
