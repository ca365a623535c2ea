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
