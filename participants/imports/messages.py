"""Row errors in the reader's language.

The import pipeline writes each row error as finished text, in Indonesian (the language of the
worker that ran it), into `ImportRowError.message` and `ArrearsImport.message`. A page or export in another language reads
it back through `localise`: the stored text is matched against the pipeline's own message
templates (every string literal passed to gettext in this package), the values are taken out
of it and put into the template's translation. A field label inside a message (`%(label)s`)
is translated too. Text that matches no template is shown as stored.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from django.utils.translation import get_language, gettext

_PACKAGE = Path(__file__).resolve().parent
_GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\}|%%")


@functools.cache
def _templates() -> tuple[str, ...]:
    """Every message literal of the import package, longest first (the most specific wins)."""
    found: set[str] = set()
    # The row and file errors come from this package; an import's summary and its file-level
    # errors from the import service beside it.
    for path in [*sorted(_PACKAGE.glob("*.py")), _PACKAGE.parent / "services.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            first = node.args[0]
            if name in _GETTEXT_NAMES and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return tuple(sorted(found, key=lambda text: (-len(_PLACEHOLDER.sub("", text)), text)))


@functools.cache
def _pattern(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A regex reading the stored text of `template`, and its groups' names in order."""
    parts: list[str] = []
    names: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position:match.start()]))
        if match.group(0) == "%%":
            parts.append("%")
        else:
            name = match.group(1) or f"_{len(names)}"
            if name in names:  # the same value again: it must read the same
                parts.append(f"(?P={name})")
            else:
                names.append(name)
                parts.append(f"(?P<{name}>.+?)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.S), tuple(names)


def _fill(template: str, values: dict[str, str]) -> str:
    translated = gettext(template)
    named = {key: value for key, value in values.items() if not key.startswith("_")}
    if "label" in named:
        named["label"] = gettext(named["label"])
    if named:
        translated = translated % named
    positional = iter(value for key, value in sorted(values.items()) if key.startswith("_"))
    return re.sub(r"\{\}", lambda _match: next(positional, "{}"), translated)


@functools.lru_cache(maxsize=4096)
def _localise(message: str, language: str) -> str:
    for template in _templates():
        pattern, _names = _pattern(template)
        match = pattern.fullmatch(message)
        if match is not None:
            return _fill(template, match.groupdict())
    return message


def localise(message: str) -> str:
    """A stored row error in the active language: `NIK kosong.` -> `NIK is empty.` in English.
    A message of several lines (an import's summary) is read line by line."""
    language = get_language() or ""
    if not message or language.startswith("id"):
        return message
    return "\n".join(_localise(line, language) for line in message.split("\n"))
