"""The questionnaire as a Django form: each question kind's field, the answers it accepts from a
page (strings) and from the API (JSON values), and the assessor's page showing errors next to the
questions with a summary that links to each one."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.http import QueryDict

from assessments import questionnaire, services
from assessments.models import Assessment, Status
from tests.assessments.conftest import VALID_ANSWERS


def _q(key: str) -> questionnaire.Question:
    return questionnaire.questions_by_key()[key]


# --- fields from the definition ------------------------------------------------------------------

def test_each_question_kind_becomes_a_django_field_with_its_widget_and_bounds():
    form = questionnaire.AnswersForm(complete=True)
    size = form.fields["household_size"]
    assert isinstance(size, forms.IntegerField) and (size.min_value, size.max_value) == (1, 30)
    assert isinstance(size.widget, forms.NumberInput)
    housing = form.fields["housing"]
    assert isinstance(housing, forms.ChoiceField) and isinstance(housing.widget, forms.RadioSelect)
    assert [v for v, _label in housing.choices] == _q("housing").choice_values
    assets = form.fields["assets"]
    assert isinstance(assets, forms.MultipleChoiceField)
    assert isinstance(assets.widget, forms.CheckboxSelectMultiple)
    assert isinstance(form.fields["visit_date"], forms.DateField)
    assert isinstance(form.fields["visit_date"].widget, forms.DateInput)
    notes = form.fields["notes"]
    assert isinstance(notes, forms.CharField) and notes.max_length == 2000
    assert isinstance(notes.widget, forms.Textarea)
    assert isinstance(form.fields["consent"].widget, forms.CheckboxInput)
    assert isinstance(form.fields["under_treatment"].widget, forms.RadioSelect)
    required = {key for key, field in form.fields.items() if field.required}
    assert required == {q.key for q in questionnaire.questions() if q.required or q.must_be_true}


def test_a_saving_form_has_only_the_questions_sent_and_none_is_required():
    form = questionnaire.AnswersForm(QueryDict("household_size=4&assets__present=1&csrfmiddlewaretoken=x"))
    assert set(form.fields) == {"household_size", "assets"}
    assert not any(field.required for field in form.fields.values())
    assert form.is_valid() and form.answers() == {"household_size": 4, "assets": None}


def test_the_version_decides_the_fields():
    assert "can_pay_instalment" in questionnaire.AnswersForm(version=2).fields
    assert "can_pay_instalment" not in questionnaire.AnswersForm(version=1).fields


# --- what is accepted, from a page and from the API -----------------------------------------------

@pytest.mark.parametrize(
    ("answers", "cleaned"),
    [
        ({"household_size": " 7 "}, {"household_size": 7}),
        ({"household_size": 4.0}, {"household_size": 4}),
        ({"household_size": ""}, {"household_size": None}),
        ({"assets": "car"}, {"assets": ["car"]}),
        ({"assets": ["land", "car", "land"]}, {"assets": ["car", "land"]}),  # questionnaire order, once
        ({"assets": []}, {"assets": None}),
        ({"consent": "ya"}, {"consent": True}),
        ({"consent": "false"}, {"consent": False}),
        ({"recent_hospitalisation": False}, {"recent_hospitalisation": False}),
        ({"notes": "  "}, {"notes": None}),
        ({"notes": " rumah kayu "}, {"notes": "rumah kayu"}),
        ({"visit_date": "2026-11-20"}, {"visit_date": "2026-11-20"}),
        ({"dtsen_decile": None}, {"dtsen_decile": None}),
    ],
)
def test_answers_are_cleaned_to_their_stored_form(answers, cleaned):
    assert questionnaire.validate_answers(answers) == cleaned


@pytest.mark.parametrize(
    "answers",
    [
        {"household_size": True},  # a JSON boolean is not a number
        {"household_size": 4.5},
        {"household_size": 31},
        {"dtsen_decile": "[1]"},
        {"visit_date": 20261120},  # a JSON number is not a date
        {"visit_date": "2026-02-30"},
        {"notes": 5},  # nor is it text
        {"notes": ["a"]},
        {"notes": "x" * 2001},
        {"assets": {"car": True}},
        {"assets": [1]},
        {"main_occupation": 1},
        {"under_treatment": "mungkin"},
        {"under_treatment": 1},
    ],
)
def test_wrong_values_are_refused_not_coerced(answers):
    with pytest.raises(questionnaire.AnswerError) as caught:
        questionnaire.validate_answers(answers)
    (key,) = answers
    assert set(caught.value.errors) == {key}
    assert caught.value.errors[key].startswith(f"{_q(key).label}: ")


def test_not_an_object_is_refused():
    with pytest.raises(questionnaire.AnswerError) as caught:
        questionnaire.validate_answers(["household_size", 4])
    assert set(caught.value.errors) == {"answers"}


def test_missing_for_submit_names_required_answers_and_consent_not_given():
    answers = {**VALID_ANSWERS, "consent": False}
    del answers["housing"]
    missing = questionnaire.missing_for_submit(answers)
    assert set(missing) == {"housing", "consent"}
    assert missing["consent"] == f"{_q('consent').label}: Wajib disetujui."
    assert missing["housing"] == f"{_q('housing').label}: Wajib diisi."
    assert questionnaire.missing_for_submit(VALID_ANSWERS) == {}


# --- the assessor's page ----------------------------------------------------------------------------

@pytest.fixture
def page_a(client, assessor_a, draft_a):
    client.force_login(assessor_a)
    return client, f"/r/luwu-utara/assessments/{draft_a.pk}/"


def _stored(draft) -> Assessment:
    return Assessment.objects.for_regency(draft.regency).get(pk=draft.pk)


def test_the_form_shows_the_stored_answers(page_a, draft_a, assessor_a):
    services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers=VALID_ANSWERS)
    client, url = page_a
    html = client.get(url).content.decode()
    assert re.search(r'<input type="radio" name="main_occupation" value="farmer" id="q-main_occupation-farmer"[^>]* checked', html)
    assert re.search(r'value="false" id="q-recent_hospitalisation-false"[^>]* checked', html)
    assert not re.search(r'value="true" id="q-recent_hospitalisation-true"[^>]* checked', html)
    assert re.search(r'id="q-consent-yes"[^>]* checked', html)
    assert re.search(r'value="motorbike" id="q-assets-motorbike"[^>]* checked', html)
    assert 'value="2026-11-20" id="q-visit_date-input"' in html
    assert "error-summary" not in html


def test_without_javascript_a_wrong_answer_is_shown_at_its_question_and_nothing_is_saved(page_a, draft_a):
    client, url = page_a
    r = client.post(url + "save/", {"household_size": "banyak", "dependants": "2", "housing": "istana"})
    assert r.status_code == 400
    html = r.content.decode()
    # The summary at the top links to each wrong answer.
    summary = html[html.index("error-summary"):html.index("</ul>", html.index("error-summary"))]
    assert 'href="#q-household_size-input"' in summary and 'href="#q-housing"' in summary
    assert "Jumlah anggota rumah tangga: Masukkan keseluruhan angka bilangan." in summary
    assert "dependants" not in summary
    # Next to the field: the message, named by the input's aria-describedby, and aria-invalid.
    assert re.search(r'<input type="number" name="household_size" value="banyak"[^>]*aria-invalid="true"', html)
    assert re.search(r'id="q-household_size-input"[^>]*aria-describedby="q-household_size_error"', html)
    assert re.search(r'<div class="field-message" id="q-household_size_error" data-error-for="household_size">'
                     r"<p>Masukkan keseluruhan angka bilangan.</p></div>", html)
    assert re.search(r'<fieldset aria-describedby="q-housing_error">', html)
    assert re.search(r'id="q-housing_error" data-error-for="housing"><p>Masukkan pilihan yang valid', html)
    assert _stored(draft_a).answers == {}


def test_submitting_an_incomplete_assessment_marks_each_missing_question(page_a, draft_a):
    client, url = page_a
    form = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in VALID_ANSWERS.items()}
    del form["housing"], form["consent"]
    form["consent__present"] = "1"
    r = client.post(url + "submit/", form)
    assert r.status_code == 400
    html = r.content.decode()
    assert 'href="#q-housing"' in html and 'href="#q-consent-yes"' in html
    assert re.search(r'id="q-housing_error" data-error-for="housing"><p>Wajib diisi.</p>', html)
    assert re.search(r'id="q-consent_error" data-error-for="consent"><p>Wajib disetujui.</p>', html)
    assert 'href="#q-household_size-input"' not in html
    stored = _stored(draft_a)
    assert stored.status == Status.DRAFT and stored.answers["household_size"] == 4  # the rest was saved
    assert "housing" not in stored.answers


def test_autosave_names_the_wrong_questions_without_their_labels(page_a, draft_a):
    client, url = page_a
    r = client.post(url + "save/", {"household_size": "0", "visit_date": "20-11-2026"},
                    HTTP_X_REQUESTED_WITH="fetch")
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_answers"
    assert body["errors"] == {
        "household_size": "Pastikan nilai ini lebih besar dari atau sama dengan 1.",
        "visit_date": "Masukkan tanggal yang valid.",
    }
    assert _stored(draft_a).answers == {}


def test_unticking_consent_on_the_page_clears_it(page_a, draft_a, assessor_a):
    services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers={"consent": True})
    client, url = page_a
    r = client.post(url + "save/", {"consent__present": "1"}, HTTP_X_REQUESTED_WITH="fetch")
    assert r.status_code == 200
    stored = _stored(draft_a)
    assert "consent" not in stored.answers and stored.consent_recorded_by is None
