"""Stored import messages in the reader's language: plural messages (ngettext/npgettext) are
matched by either form and translated with the number read back from the text; the import
errors API answers in the language its client asks for, the `column` staying the machine name."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from participants.imports import messages
from participants.imports.messages import _Message, _messages_in, localise
from participants.models import ImportRowError, ImportStatus
from tests.factories import ArrearsImportFactory, api_token_for

CONFIRMATION_EN = (
    "This full list would mark %(n)s of the branch's %(total)s participants as off the arrears list and "
    "release %(count)s active pledge. Check the details, then choose Apply or Revoke.",
    "This full list would mark %(n)s of the branch's %(total)s participants as off the arrears list and "
    "release %(count)s active pledges. Check the details, then choose Apply or Revoke.",
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """`localise` remembers what it read; a test that swaps a catalogue must not leak into another."""
    messages._localise.cache_clear()
    yield
    messages._localise.cache_clear()


def _english_plurals(monkeypatch, catalogue: dict[tuple[str | None, str], tuple[str, str]]) -> list[int]:
    """English plural forms for the given (context, singular) messages; returns the numbers asked for."""
    asked: list[int] = []

    def ngettext(singular: str, plural: str, number: int) -> str:
        asked.append(number)
        forms = catalogue.get((None, singular), (singular, plural))
        return forms[0] if number == 1 else forms[1]

    def npgettext(context: str, singular: str, plural: str, number: int) -> str:
        asked.append(number)
        forms = catalogue.get((context, singular), (singular, plural))
        return forms[0] if number == 1 else forms[1]

    monkeypatch.setattr(messages, "ngettext", ngettext)
    monkeypatch.setattr(messages, "npgettext", npgettext)
    return asked


def _stored_confirmation(pledges: int) -> str:
    from participants.services import _confirmation_message

    with translation.override("id"):
        return _confirmation_message({"would_clear": 3, "participants": 1200, "pledges_released": pledges})


def test_the_pipeline_plural_messages_are_templates():
    plural = [message for _form, message in messages._templates() if message.plural is not None]
    assert any("melepas %(count)s janji donasi aktif" in message.singular for message in plural)


@pytest.mark.parametrize(("pledges", "form"), [(1, 0), (2, 1), (0, 1)])
def test_a_stored_plural_message_reads_in_the_form_its_number_picks(monkeypatch, pledges, form):
    stored = _stored_confirmation(pledges)
    template = next(m for _f, m in messages._templates() if m.plural and "janji donasi aktif" in m.singular)
    asked = _english_plurals(monkeypatch, {(None, template.singular): CONFIRMATION_EN})
    with translation.override("en"):
        english = localise(stored)
    assert english == CONFIRMATION_EN[form] % {"n": 3, "total": 1200, "count": pledges}
    assert asked == [pledges]  # the pledges picked the form, not the 3 or the 1200
    with translation.override("id"):
        assert localise(stored) == stored


def test_both_forms_of_a_plural_call_are_collected_with_their_context():
    source = (
        'from django.utils.translation import ngettext, npgettext\n'
        'a = ngettext("%(count)s baris ditolak.", "%(count)s baris-baris ditolak.", n)\n'
        'b = npgettext("impor", "%(count)s kolom hilang.", "%(count)s kolom-kolom hilang.", n)\n'
        'c = ngettext(pesan, jamak, n)  # not literals: nothing to match\n'
    )
    found = dict(_messages_in(source))
    plain = _Message("%(count)s baris ditolak.", "%(count)s baris-baris ditolak.")
    with_context = _Message("%(count)s kolom hilang.", "%(count)s kolom-kolom hilang.", context="impor")
    assert found == {
        "%(count)s baris ditolak.": plain,
        "%(count)s baris-baris ditolak.": plain,
        "%(count)s kolom hilang.": with_context,
        "%(count)s kolom-kolom hilang.": with_context,
    }


def test_a_contextual_plural_is_read_from_either_stored_form(monkeypatch):
    message = _Message("%(count)s kolom hilang.", "%(count)s kolom-kolom hilang.", context="impor")
    monkeypatch.setattr(messages, "_templates", lambda: ((message.singular, message), (message.plural, message)))
    asked = _english_plurals(monkeypatch, {("impor", message.singular): ("%(count)s column missing.",
                                                                          "%(count)s columns missing.")})
    with translation.override("en"):
        assert localise("1 kolom hilang.") == "1 column missing."
        assert localise("1.234 kolom-kolom hilang.") == "1.234 columns missing."
    assert asked == [1, 1234]


def test_a_formatted_number_is_read_back_as_written():
    """`0x%(byte)02X` stores the byte in hexadecimal: read back as a number, written again in the
    translation the same way."""
    stored = ("Berkas tidak dapat dibaca: byte 0x9D di sekitar posisi 1234 bukan UTF-8 maupun "
              "Windows-1252. Simpan ulang berkas sebagai CSV UTF-8.")
    with translation.override("en"):
        assert localise(stored) == ("The file cannot be read: byte 0x9D near position 1234 is neither UTF-8 "
                                    "nor Windows-1252. Save the file again as CSV UTF-8.")
        # text of another shape where the template has a number stays as stored
        odd = stored.replace("0x9D", "0xZZ")
        assert localise(odd) == odd


# --- the errors API ----------------------------------------------------------------------------
def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.mark.django_db
def test_the_errors_api_answers_in_the_language_the_client_asks_for(bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, progress=100, error_count=1,
                               message="Pemrosesan terhenti dua kali (pekerja mati atau basis data terputus). "
                                       "Tidak ada data yang diubah. Unggah ulang berkas ini.")
    stored = "NIK harus tepat 16 digit, ditemukan 15 digit."
    ImportRowError.objects.create(arrears_import=imp, row=3, column="nik", message=stored, value="123")
    client = _api(bpjs_a)

    english = client.get(f"/api/v1/imports/{imp.pk}/errors/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert english.status_code == 200 and english["Content-Language"] == "en"
    assert english.json()["results"] == [
        {"row": 3, "column": "nik", "message": "NIK must be exactly 16 digits, found 15 digits.", "value": "123"}]
    summary = client.get(f"/api/v1/imports/{imp.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()["summary"]
    assert summary["message"] == ("Processing stopped twice (the worker died or the database connection was "
                                  "lost). No data was changed. Upload this file again.")

    indonesian = client.get(f"/api/v1/imports/{imp.pk}/errors/")
    assert indonesian["Content-Language"] == "id"
    assert indonesian.json()["results"][0]["message"] == stored


@pytest.mark.django_db
def test_errors_kept_only_in_the_summary_are_in_english_too(bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.REJECTED, progress=100,
                               errors=[{"row": 4, "column": "no_kk", "message": "Nomor KK kosong.", "value": ""}])
    body = _api(bpjs_a).get(f"/api/v1/imports/{imp.pk}/errors/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [(r["column"], r["message"]) for r in body["results"]] == [("no_kk", "Family card (KK) number is empty.")]


def test_a_page_ignores_accept_language(client, db):
    """Pages stay Indonesian for a phone set to English; only the API reads the header."""
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "id"
