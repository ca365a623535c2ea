"""The thank-you certificate (PDF, fpdf2) for a verified pledge. Shows the pseudonym only."""

from __future__ import annotations

from fpdf import FPDF

from core.formatting import format_date, format_rupiah


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1: replace anything else rather than fail.
    return text.replace("–", "-").replace("—", "-").encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(*, donor_name: str, campaign_title: str, regency_name: str, pseudonym: str,
                    amount: int, verified_on, texts: dict[str, str]) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(_latin1(texts["title"]))
    pdf.set_author("Satu untuk Satu")
    pdf.add_page()
    pdf.set_draw_color(20, 110, 80)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(30)
    pdf.set_font("Helvetica", "B", 30)
    pdf.cell(0, 16, _latin1(texts["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 10, _latin1(texts["given_to"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 24)
    pdf.cell(0, 14, _latin1(donor_name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 14)
    pdf.set_x(30)
    pdf.multi_cell(237, 8, _latin1(texts["body"].format(
        pseudonym=pseudonym, amount=format_rupiah(amount), campaign=campaign_title, regency=regency_name,
        date=format_date(verified_on))), align="C")
    pdf.ln(10)
    pdf.set_font("Helvetica", "I", 12)
    pdf.cell(0, 8, _latin1(texts["footer"]), align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
