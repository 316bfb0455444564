"""The translation catalogs keep up with the UI.

* every string the code and the templates mark for translation has a finished (non-empty, non-fuzzy) translation
  in every catalog, so a new UI string without a Chinese translation fails the suite;
* translations keep the placeholders of their source string (``%(name)s``, ``%(n)d``, ``{name}``);
* the catalogs carry no obsolete (``#~``) entries and no fuzzy header (a fuzzy catalog is not compiled).

To fix a failure: ``scripts/i18n.sh extract && scripts/i18n.sh update``, translate the listed entries in the .po,
then ``scripts/i18n.sh compile``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
TRANSLATIONS = REPO / "platform_core" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
# The same keywords as scripts/i18n.sh extract (gettext's defaults plus Flask-Babel's lazy_gettext).
KEYWORDS = ("_l", "lazy_gettext")
HOW_TO_FIX = "run `scripts/i18n.sh extract && scripts/i18n.sh update`, then translate them"

PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
BRACE_PLACEHOLDER = re.compile(r"(?<!{){(?!{)[^{}]*}")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


def _extract(tmp_path: Path) -> Catalog:
    """A fresh extraction of the UI strings, with the project's babel.cfg, into a throwaway template."""
    pot = tmp_path / "messages.pot"
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    command = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg", *keywords]
    result = subprocess.run(
        [*command, "--no-location", "-o", str(pot), "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"extracting the UI strings failed:\n{result.stderr}"
    return _read(pot)


def _label(po: Path) -> str:
    return str(po.relative_to(REPO))


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _is_finished(message: Message | None) -> bool:
    return message is not None and not message.fuzzy and all(_forms(message.string))


def _placeholders(message: Message, text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    if "python-format" in message.flags:
        found.update(m.group(0) for m in PERCENT_PLACEHOLDER.finditer(text) if m.group(0) != "%%")
    if "python-brace-format" in message.flags:
        found.update(BRACE_PLACEHOLDER.findall(text))
    return found


def _placeholder_problem(message: Message) -> str | None:
    """How a translation's placeholders differ from its source string's, or None when they agree."""
    sources = _forms(message.id)
    translations = [form for form in _forms(message.string) if form]
    if len(sources) == 1:
        expected, got = _placeholders(message, sources[0]), [_placeholders(message, t) for t in translations]
        wrong = [g for g in got if g != expected]
        return f"expects {sorted(expected)}, has {sorted(wrong[0])}" if wrong else None
    # Plural forms: each form uses only the source's placeholders, and together they keep the plural's.
    allowed = _placeholders(message, sources[0]) | _placeholders(message, sources[1])
    got = [_placeholders(message, t) for t in translations]
    unknown = sorted({p for g in got for p in g if p not in allowed})
    lost = sorted(set(_placeholders(message, sources[1])) - {p for g in got for p in g})
    if unknown or lost:
        return f"unknown {unknown}, missing {lost}"
    return None


def test_there_is_a_simplified_chinese_catalog() -> None:
    assert any(po.parts[-3].startswith("zh") for po in CATALOGS), f"no Chinese catalog under {TRANSLATIONS}"


def test_every_ui_string_has_a_finished_translation(tmp_path: Path) -> None:
    template = _extract(tmp_path)
    assert len(template) > 0, "the extraction found no UI strings; check babel.cfg"
    problems = []
    for po in CATALOGS:
        catalog = _read(po)
        missing = sorted((m.id for m in template if m.id and not _is_finished(catalog.get(m.id, m.context))), key=str)
        if missing:
            listed = "\n".join(f"  {msgid!r}" for msgid in missing)
            problems.append(f"{len(missing)} untranslated in {_label(po)} ({HOW_TO_FIX}):\n{listed}")
    assert not problems, "\n".join(problems)


def test_translations_keep_their_placeholders() -> None:
    problems = []
    for po in CATALOGS:
        for message in _read(po):
            if not message.id or not any(_forms(message.string)):
                continue
            problem = _placeholder_problem(message)
            if problem:
                problems.append(f"{_label(po)}: {message.id!r} -> {message.string!r}: {problem}")
    assert not problems, "placeholders differ from the source string:\n" + "\n".join(problems)


def test_catalogs_have_no_obsolete_entries_and_no_fuzzy_header() -> None:
    problems = []
    for po in CATALOGS:
        catalog = _read(po)
        if catalog.obsolete:
            obsolete = ", ".join(repr(key) for key in catalog.obsolete)
            problems.append(f"{_label(po)} has obsolete (#~) entries; run `scripts/i18n.sh update`: {obsolete}")
        if catalog.fuzzy:
            problems.append(f"{_label(po)} has a fuzzy header, so it would not be compiled; remove the fuzzy flag")
    assert not problems, "\n".join(problems)
