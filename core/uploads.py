"""Uploaded files on their way to storage: spooled to a temporary file beside it, hashed as they
stream, refused when empty or over a size limit (nothing is kept of a refused upload)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError


def spool_upload(source: Any, *, folder: str, limit: int, too_large: str | None = None) -> tuple[str, int, str]:
    """Copy `source` (an uploaded file, or an open binary file) to a temporary file under
    MEDIA_ROOT/<folder>/tmp; returns (path, size, sha256 hex). `too_large` is the message for a file
    over `limit` bytes (it may name `%(limit)s`, the limit in MB)."""
    spool_dir = Path(settings.MEDIA_ROOT) / folder / "tmp"
    spool_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(dir=spool_dir, delete=False, suffix=".part")  # noqa: SIM115
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
