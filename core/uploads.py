"""Uploaded files on their way to storage: spooled to a temporary file beside it, hashed as they
stream, refused when empty or over a size limit (nothing is kept of a refused upload); photos and
PDFs are told apart by their first bytes, never by their name.

Stored files are read back through the storage API only (`local_copy`), never by their path: in
production they are on object storage (S3) and the worker reading them is another machine than
the web process that took the upload."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage, storages
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from core.errors import DomainError

# content type -> (extension, magic test)
_KINDS: tuple[tuple[str, str, object], ...] = (
    ("image/jpeg", ".jpg", lambda head: head[:3] == b"\xff\xd8\xff"),
    ("image/png", ".png", lambda head: head[:8] == b"\x89PNG\r\n\x1a\n"),
    ("image/webp", ".webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("application/pdf", ".pdf", lambda head: head[:5] == b"%PDF-"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG, WebP or PDF file from its first 16 bytes, else None."""
    for content_type, extension, test in _KINDS:
        if test(head):  # type: ignore[operator]
            return content_type, extension
    return None


def sniff_image_or_pdf(upload: Any, *, limit: int, code: str, too_large: str, empty: str,
                       wrong_type: str) -> tuple[str, str]:
    """(content type, extension) of an uploaded photo or PDF, or a DomainError coded
    `<code>_too_large` (over `limit` bytes; `too_large` may name `%(size)s` and `%(limit)s` in MB),
    `<code>_empty` or `<code>_type` (not a JPEG, PNG, WebP or PDF by its first bytes)."""
    if upload.size > limit:
        raise DomainError(
            too_large % {"size": round(upload.size / 1024 / 1024, 1), "limit": round(limit / 1024 / 1024, 1)},
            code=f"{code}_too_large",
        )
    if upload.size == 0:
        raise DomainError(empty, code=f"{code}_empty")
    upload.seek(0)
    kind = sniff(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise DomainError(wrong_type, code=f"{code}_type")
    return kind


def spool_upload(source: Any, *, folder: str, limit: int, too_large: str | None = None) -> tuple[str, int, str]:
    """Copy `source` (an uploaded file, or an open binary file) to a temporary file under
    spool_dir(folder); returns (path, size, sha256 hex). `too_large` is the message for a file
    over `limit` bytes (it may name `%(limit)s`, the limit in MB)."""
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(dir=spool_dir(folder), delete=False, suffix=".part")  # noqa: SIM115
    try:
        with handle:
            chunks = source.chunks() if hasattr(source, "chunks") else iter(lambda: source.read(1 << 20), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    message = too_large or _("Berkas terlalu besar: lebih dari %(limit)s MB.")
                    raise DomainError(message % {"limit": limit // (1024 * 1024)}, code="file_too_large")
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise DomainError(_("Berkas kosong: tidak ada isi yang bisa dibaca."), code="file_empty")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
    return handle.name, size, digest.hexdigest()


def spool_dir(folder: str) -> Path:
    """Where an upload waits (for one request or task) before it is stored: beside the stored files
    when they are on this machine's disk, so that saving moves it instead of copying it; this
    machine's temporary directory when they are on object storage."""
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        path = Path(storage.location) / folder / "tmp"
    else:
        path = Path(tempfile.gettempdir()) / "satu-uploads" / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def local_copy(stored: FieldFile) -> Iterator[Path]:
    """A copy of a stored file on this machine's disk, for readers that need a path (polars,
    calamine), deleted on exit. FileNotFoundError when the storage no longer has it."""
    if not stored.name:
        raise FileNotFoundError("no stored file")
    handle, name = tempfile.mkstemp(prefix="satu-", suffix=Path(stored.name).suffix.lower())
    try:
        with os.fdopen(handle, "wb") as out, stored.storage.open(stored.name, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
