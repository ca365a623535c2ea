"""Evidence files: what is accepted is decided by the file's first bytes, not its name."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError

# content type -> (extension, magic test)
_KINDS: tuple[tuple[str, str, object], ...] = (
    ("image/jpeg", ".jpg", lambda head: head[:3] == b"\xff\xd8\xff"),
    ("image/png", ".png", lambda head: head[:8] == b"\x89PNG\r\n\x1a\n"),
    ("image/webp", ".webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("application/pdf", ".pdf", lambda head: head[:5] == b"%PDF-"),
)


def max_evidence_bytes() -> int:
    return int(getattr(settings, "ASSESSMENT_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))


def sniff(head: bytes) -> tuple[str, str] | None:
    for content_type, extension, test in _KINDS:
        if test(head):  # type: ignore[operator]
            return content_type, extension
    return None


def sniff_upload(upload) -> tuple[str, str]:
    """(content type, extension) of an uploaded file, or a DomainError saying why not."""
    if upload is None:
        raise DomainError(_("Pilih berkas foto atau PDF."), code="evidence_missing")
    limit = max_evidence_bytes()
    if upload.size > limit:
        raise DomainError(
            _("Berkas terlalu besar (%(size)s MB); paling besar %(limit)s MB.")
            % {"size": round(upload.size / 1024 / 1024, 1), "limit": round(limit / 1024 / 1024, 1)},
            code="evidence_too_large",
        )
    if upload.size == 0:
        raise DomainError(_("Berkas kosong."), code="evidence_empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind is None:
        raise DomainError(
            _("Jenis berkas tidak diterima: hanya foto JPEG, PNG, WebP atau PDF."),
            code="evidence_type",
        )
    return kind
