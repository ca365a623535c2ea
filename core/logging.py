"""No personal data in logs: a filter on every log handler (config/settings/base.py LOGGING).

Masks in the message, its arguments and the formatted exception:
- 16-digit numbers (NIK, KK) and 13-digit numbers (BPJS card numbers);
- the values of known name fields (`nama`, `name`, `nama_peserta`, ... as `key=value`,
  `key: value`, `'key': 'value'`, `"key": "value"`);
- the exception MESSAGE (not its traceback) of failures while handling an arrears list
  (loggers `participants.*`, and Celery's task-failure record for `participants.*` tasks):
  parsers quote the offending row there.
"""

from __future__ import annotations

import logging
import re
import traceback

NIK_MASK = "<NIK/KK>"
CARD_MASK = "<no. kartu>"
NAME_MASK = "<nama>"
HIDDEN = "[pesan disembunyikan: dapat memuat data pribadi]"

_SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")
_THIRTEEN = re.compile(r"(?<!\d)\d{13}(?!\d)")
_NAME_KEYS = (
    r"nama(?:_[a-z]+)*|name|full_name|first_name|last_name|donor_name|nama_lengkap|nama_peserta"
)
# 'nama': 'UDIN'  "nama": "UDIN"  nama='UDIN'
_NAME_QUOTED = re.compile(
    rf"""(?i)(\b(?:{_NAME_KEYS})\b['"]?\s*[:=]\s*)(['"])(.*?)(?<!\\)\2"""
)
# nama=UDIN SYAMSUDDIN, ...   nama: UDIN
_NAME_BARE = re.compile(rf"""(?i)(\b(?:{_NAME_KEYS})\b\s*[:=]\s*)(?!['"<])([^,;\n)}}\]]+)""")

SENSITIVE_EXCEPTION_LOGGERS = ("participants",)


def mask(text: str) -> str:
    """The text with NIK/KK, card numbers and name values masked."""
    if not text:
        return text
    text = _SIXTEEN.sub(NIK_MASK, text)
    text = _THIRTEEN.sub(CARD_MASK, text)
    text = _NAME_QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{NAME_MASK}{m.group(2)}", text)
    return _NAME_BARE.sub(lambda m: f"{m.group(1)}{NAME_MASK}", text)


def _mask_value(value):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask(repr(value)) if not isinstance(value, BaseException) else mask(str(value))


def _sensitive_failure(record: logging.LogRecord) -> bool:
    if record.name.startswith(SENSITIVE_EXCEPTION_LOGGERS):
        return True
    if record.name.startswith("celery") and isinstance(record.args, dict):
        return str(record.args.get("name", "")).startswith(SENSITIVE_EXCEPTION_LOGGERS)
    return False


class PersonalDataFilter(logging.Filter):
    """Install on handlers: records from every logger pass through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._scrub(record)
        except Exception:  # a filter must never lose the record
            record.msg, record.args = "log record hidden (masking failed)", None
        return True

    def _scrub(self, record: logging.LogRecord) -> None:
        hide_exc = _sensitive_failure(record)
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        elif record.msg is not None and not isinstance(record.msg, int | float):
            record.msg = mask(str(record.msg))
        if isinstance(record.args, dict):
            record.args = {
                k: (HIDDEN if hide_exc and k == "exc" else _mask_value(v)) for k, v in record.args.items()
            }
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_value(v) for v in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            if hide_exc:
                lines = [*traceback.format_tb(tb), f"{exc_type.__module__}.{exc_type.__qualname__}: {HIDDEN}\n"]
                text = "Traceback (most recent call last):\n" + "".join(lines)
            else:
                text = "".join(traceback.format_exception(exc_type, exc, tb))
            record.exc_text = mask(text.rstrip("\n"))
            # The formatter uses exc_text; exc_info stays for handlers that need the type.
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of `logger` (root by default) that lacks it (Celery)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
