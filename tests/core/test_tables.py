"""`core.tables`: rows from columns, every value escaped as `{{ value }}` escapes it."""

from django.utils.html import format_html

from core.tables import Column, table_rows


def test_rows_escape_text_and_keep_markup():
    columns = (
        Column(lambda r: format_html('<a href="{}">{}</a>', r["url"], r["name"])),
        Column(lambda r: r["name"]),
        Column(lambda r: r["n"], css="num"),
    )
    html = table_rows([{"url": "/p/1/?a=1&b=2", "name": "<Siti & Ali>", "n": 7}], columns)
    assert html == ('<tr><td><a href="/p/1/?a=1&amp;b=2">&lt;Siti &amp; Ali&gt;</a></td>'
                    '<td>&lt;Siti &amp; Ali&gt;</td><td class="num">7</td></tr>\n')


def test_no_rows_no_markup():
    assert table_rows([], (Column(str),)) == ""


def test_a_translation_that_does_not_fit_its_values_falls_back_to_the_source():
    from core.tables import fill_translation

    assert fill_translation("%(n)s people", "%(n)s orang", n="3") == "3 people"
    assert fill_translation("%(x)s people", "%(n)s orang", n="3") == "3 orang"


def test_escape_html_is_conditional_escape():
    from django.utils.html import conditional_escape
    from django.utils.safestring import SafeString, mark_safe
    from django.utils.translation import gettext_lazy, override

    from core.tables import escape_html

    values = ["<b>\"Siti\" & 'Ali'</b>", "", mark_safe("<i>kept</i>"), SafeString("<b>x</b>"), 7, 0, None,
              1250000, 3.5, gettext_lazy("Peserta")]
    with override("en"):
        for value in values:
            assert escape_html(value) == conditional_escape(value), value


def test_participant_rows_show_choice_labels_in_the_request_language(db):
    from django.utils.translation import override

    from participants.tables import PARTICIPANT_COLUMNS
    from tests.factories import ParticipantFactory

    participant = ParticipantFactory(name="<Ani & Budi>")
    participant.eligibility = "eligible"  # the list's annotation (participants.selectors)
    with override("id"):
        indonesian = table_rows([(participant, "/p/1/?a=1&b=2")], PARTICIPANT_COLUMNS)
        expected_id = participant.get_status_display()
    with override("en"):
        english = table_rows([(participant, "/p/1/?a=1&b=2")], PARTICIPANT_COLUMNS)
        expected_en = participant.get_status_display()
    assert '<a href="/p/1/?a=1&amp;b=2">&lt;Ani &amp; Budi&gt;</a>' in indonesian
    assert expected_id != expected_en
    assert f">{expected_id}</span>" in indonesian and f">{expected_en}</span>" in english
