"""The form renderer writes the markup Django's select templates write, byte for byte."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from core.form_renderer import FormRenderer


class _Form(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Semua"), ("a", "A & B"), ("b", 'say "hi"')], required=False)
    grouped = forms.ChoiceField(choices=[("Satu", [("1", "<one>"), ("2", "two")]), ("3", "three")])
    many = forms.MultipleChoiceField(choices=[(1, "x"), (2, "y")], required=False)
    flagged = forms.ChoiceField(
        choices=[("k", mark_safe("<b>k</b>"))],
        widget=forms.Select(attrs={"data-x": 'q"<', "disabled": True, "hidden": False, "aria-label": "pilih"}),
    )


@pytest.mark.parametrize("data", [{}, {"plain": "a", "grouped": "2", "many": ["1", "2"], "flagged": "k"},
                                  {"plain": "<zz>", "grouped": "nope"}])
@pytest.mark.parametrize("name", ["plain", "grouped", "many", "flagged"])
def test_select_markup_is_djangos(data, name):
    ours = _Form(data or None, renderer=FormRenderer())[name].as_widget()
    djangos = _Form(data or None, renderer=DjangoTemplates())[name].as_widget()
    assert ours == djangos
    assert "<select" in ours


def test_the_project_renders_selects_in_python(settings):
    assert settings.FORM_RENDERER == "core.form_renderer.FormRenderer"
