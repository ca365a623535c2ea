"""Row errors in the reader's language.

The import pipeline writes each row error as finished text, in Indonesian (the language of the
worker that ran it), into `ImportRowError.message` and `ArrearsImport.message`. A page or export in another language reads
it back through `localise`: the stored text is matched against the pipeline's own message
templates (every string literal passed to gettext, pgettext, ngettext or npgettext in this
package), the values are taken out of it and put into the template's translation. A field
label inside a message (`%(label)s`) is translated too. A plural message is matched by either
of its forms and translated with the number that picks the form: its `%(count)s` (else its
`%(n)s`, else its first whole number). Text that matches no template is shown as stored.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import get_language, gettext, ngettext, npgettext, pgettext

_PACKAGE = Path(__file__).resolve().parent
# How each translation function takes its message: the positions of (context, singular, plural)
# among its arguments (None where it has no such argument).
_CALLS: dict[str, tuple[int | None, int, int | None]] = {
    **dict.fromkeys(("_", "gettext", "gettext_lazy", "gettext_noop"), (None, 0, None)),
    **dict.fromkeys(("pgettext", "pgettext_lazy"), (0, 1, None)),
    **dict.fromkeys(("ngettext", "ngettext_lazy"), (None, 0, 1)),
    **dict.fromkeys(("npgettext", "npgettext_lazy"), (0, 1, 2)),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?([sdiXxf])|\{\}|%%")


@dataclass(frozen=True)
class _Message:
    """One message of the pipeline: its singular (the gettext msgid), and its plural form and
    context where the call had them."""

    singular: str
    plural: str | None = None
    context: str | None = None

    def translate(self, values: dict[str, str]) -> str:
        if self.plural is None:
            return gettext(self.singular) if self.context is None else pgettext(self.context, self.singular)
        count = _count(values)
        if self.context is None:
            return ngettext(self.singular, self.plural, count)
        return npgettext(self.context, self.singular, self.plural, count)


def _count(values: dict[str, str]) -> int:
    """The number that picks a plural form, read back from the stored text ("1.234" -> 1234)."""
    ordered = [values[key] for key in ("count", "n") if key in values]
    ordered += [value for key, value in sorted(values.items()) if key not in ("count", "n")]
    for value in ordered:
        digits = re.sub(r"[.,\s]", "", value)
        if digits.isdigit():
            return int(digits)
    return 1


def _literal(node: ast.Call, index: int | None) -> str | None:
    if index is None or index >= len(node.args):
        return None
    arg = node.args[index]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def _messages_in(source: str) -> Iterator[tuple[str, _Message]]:
    """The literal messages of translation calls in `source`, each as (stored form, message);
    a plural message once for each of its forms."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in _CALLS:
            continue
        context_at, singular_at, plural_at = _CALLS[name]
        singular = _literal(node, singular_at)
        plural = _literal(node, plural_at)
        if singular is None or (plural_at is not None and plural is None):
            continue
        message = _Message(singular=singular, plural=plural, context=_literal(node, context_at))
        yield singular, message
        if plural is not None and plural != singular:
            yield plural, message


@functools.cache
def _templates() -> tuple[tuple[str, _Message], ...]:
    """Every message of the import package as (stored form, message), longest first (the most
    specific wins)."""
    found: set[tuple[str, _Message]] = set()
    # The row and file errors come from this package; an import's summary and its file-level
    # errors from the import service beside it.
    for path in [*sorted(_PACKAGE.glob("*.py")), _PACKAGE.parent / "services.py"]:
        found.update(_messages_in(path.read_text(encoding="utf-8")))
    return tuple(sorted(found, key=lambda item: (-len(_PLACEHOLDER.sub("", item[0])), item[0],
                                                  item[1].plural or "", item[1].context or "")))


# What each %-conversion writes, read back, and how the value is turned back for the translation.
_CONVERSIONS: dict[str, tuple[str, Callable[[str], object]]] = {
    "s": (".+?", str),
    "d": (r"-?\d+", int),
    "i": (r"-?\d+", int),
    "X": ("[0-9A-F]+", lambda text: int(text, 16)),
    "x": ("[0-9a-f]+", lambda text: int(text, 16)),
    "f": (r"-?\d+(?:\.\d+)?", float),
}


@functools.cache
def _pattern(template: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """A regex reading the stored text of `template`, and the conversion (`s`, `d`, `X`...) of each
    named value."""
    parts: list[str] = []
    conversions: dict[str, str] = {}
    positional = 0
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position:match.start()]))
        if match.group(0) == "%%":
            parts.append("%")
        else:
            name = match.group(1)
            conversion = match.group(2) or "s"
            if name is None:
                name = f"_{positional}"
                positional += 1
            if name in conversions:  # the same value again: it must read the same
                parts.append(f"(?P={name})")
            else:
                conversions[name] = conversion
                parts.append(f"(?P<{name}>{_CONVERSIONS[conversion][0]})")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.S), conversions


def _fill(message: _Message, values: dict[str, str], conversions: dict[str, str]) -> str:
    translated = message.translate(values)
    named: dict[str, object] = {key: _CONVERSIONS[conversions[key]][1](value)
                                for key, value in values.items() if not key.startswith("_")}
    if "label" in named:
        named["label"] = gettext(values["label"])
    if named:
        translated = translated % named
    positional = iter(value for key, value in sorted(values.items()) if key.startswith("_"))
    return re.sub(r"\{\}", lambda _match: next(positional, "{}"), translated)


@functools.lru_cache(maxsize=4096)
def _localise(text: str, language: str) -> str:
    for form, message in _templates():
        pattern, conversions = _pattern(form)
        match = pattern.fullmatch(text)
        if match is not None:
            return _fill(message, match.groupdict(), conversions)
    return text


def localise(message: str) -> str:
    """A stored row error in the active language: `NIK kosong.` -> `NIK is empty.` in English.
    A message of several lines (an import's summary) is read line by line."""
    language = get_language() or ""
    if not message or language.startswith("id"):
        return message
    return "\n".join(_localise(line, language) for line in message.split("\n"))
