"""The label filters of `{% load assessment_tags %}`: a known code by its label, anything else as it is."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from assessments.models import Eligibility, Flag, ReasonCode, Recommendation, Status


@pytest.mark.parametrize(
    ("name", "choices"),
    [("flag_label", Flag), ("recommendation_label", Recommendation), ("eligibility_label", Eligibility),
     ("reason_label", ReasonCode), ("status_label", Status)],
)
def test_each_filter_shows_its_codes_label_and_an_unknown_code_as_it_is(name, choices):
    template = Template("{% load assessment_tags %}[{{ code|" + name + " }}]")
    for member in choices:
        assert template.render(Context({"code": member.value})) == f"[{member.label}]"
    assert template.render(Context({"code": "no-such-code"})) == "[no-such-code]"
    assert template.render(Context({"code": None})) == "[]"
