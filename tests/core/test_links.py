"""`core.links.link_maker` gives what `reverse()` gives, reversed once."""

import uuid

import pytest
from django.urls import reverse

from core.links import link_maker


def test_the_same_links_as_reverse():
    make = link_maker("participant_detail", key="public_id", sample=str(uuid.UUID(int=0)), regency_slug="luwu-utara")
    for value in (uuid.uuid4(), uuid.UUID(int=1)):
        assert make(value) == reverse("participant_detail",
                                      kwargs={"regency_slug": "luwu-utara", "public_id": value})


def test_a_stand_in_found_twice_is_refused():
    with pytest.raises(ValueError, match="stand-in"):
        link_maker("regency_home", key="regency_slug", sample="r")
