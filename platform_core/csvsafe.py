"""CSV files for spreadsheets that cannot run what they contain (formula injection).

Excel, WPS and LibreOffice run a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a carriage
return, whatever follows) as a formula, so text typed by anyone — an ERP's customer name, a note — could open a
link or start a program on the desk of whoever opens the export. Such cells are written with a leading ``'``,
which makes the spreadsheet show them as text. Plain numbers (``-3``, ``+1.5``) stay as they are: they compute
nothing and must stay numbers. Imports that read these files back undo the prefix with :func:`unescape_cell`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_PREFIX = "'"


def _needs_prefix(text: str) -> bool:
    # Apostrophes already in front count as part of the text, so that reading back returns exactly what was written.
    bare = text.lstrip(_PREFIX)
    return bare.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(bare)


def escape_cell(text: str) -> str:
    """The cell as a spreadsheet shows it as text: ``'`` before anything it would run as a formula."""
    return _PREFIX + text if _needs_prefix(text) else text


def unescape_cell(text: str) -> str:
    """The text :func:`escape_cell` was given (a cell read back from an export)."""
    if text.startswith(_PREFIX) and _needs_prefix(text[1:]):
        return text[1:]
    return text


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """A CSV file of text cells, every one escaped: UTF-8 with a BOM (so Excel shows Chinese) and CRLF lines."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_cell(cell) for cell in header])
    writer.writerows([escape_cell(cell) for cell in row] for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
