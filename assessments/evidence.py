"""Evidence files: what is accepted is decided by the file's first bytes, not its name."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.uploads import sniff_image_or_pdf


def max_evidence_bytes() -> int:
    return int(getattr(settings, "ASSESSMENT_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))


def sniff_upload(upload) -> tuple[str, str]:
    """(content type, extension) of an uploaded file, or a DomainError saying why not."""
    if upload is None:
        raise DomainError(_("Pilih berkas foto atau PDF."), code="evidence_missing")
    return sniff_image_or_pdf(
        upload, limit=max_evidence_bytes(), code="evidence",
        too_large=_("Berkas terlalu besar (%(size)s MB); paling besar %(limit)s MB."),
        empty=_("Berkas kosong."),
        wrong_type=_("Jenis berkas tidak diterima: hanya foto JPEG, PNG, WebP atau PDF."),
    )
