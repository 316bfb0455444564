"""Photos of inspections and NCRs, checked before they are stored and served so they can never run as a page.

* The type comes from the bytes, never from the file name or the client's Content-Type: JPEG, PNG and WebP
  only, each checked for its signature and its structure's first and last marks.
* The size is limited (``QualitySettings.photo_max_kb``; the tablet page shrinks photos before sending them).
* Served with the sniffed image type, ``X-Content-Type-Options: nosniff``, a sandboxing Content-Security-Policy
  and an attachment disposition for anything but an image preview, from the database (backups include them and
  the tenant filter guards them like every other row).
"""

from __future__ import annotations

import hashlib
import re
import struct

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.quality.models import Attachment, Inspection, Nonconformance
from apps.quality.settings import get_settings
from platform_core.errors import ValidationFailed

MAX_PER_OWNER = 10
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")  # ASCII only: the name travels in a Content-Disposition header
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` when it is a well-formed JPEG, PNG or WebP file, else None."""
    if data.startswith(b"\xff\xd8\xff") and data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and b"IEND" in data[-12:]:
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        (declared,) = struct.unpack("<I", data[4:8])
        if declared + 8 == len(data) or declared + 9 == len(data):  # RIFF size, with its optional pad byte
            return "image/webp"
    return None


def safe_filename(name: str | None, content_type: str) -> str:
    stem = _SAFE_NAME.sub("_", (name or "photo").rsplit(".", 1)[0]).strip("._")[:80] or "photo"
    return f"{stem}.{EXTENSIONS[content_type]}"


def store(
    session: Session,
    data: bytes,
    *,
    filename: str | None,
    by: str,
    inspection: Inspection | None = None,
    ncr: Nonconformance | None = None,
    field: str = "file",
) -> Attachment:
    """Check and store a photo; a 422 names ``field`` when it is not an image we accept."""
    limit = get_settings(session).photo_max_kb * 1024
    problems = []
    content_type = sniff(data)
    if not data:
        problems.append(_("The file is empty."))
    elif content_type is None:
        problems.append(_("Only JPEG, PNG or WebP photos can be attached."))
    if len(data) > limit:
        problems.append(_("The photo is larger than %(kb)s KB.", kb=limit // 1024))
    owner = inspection if inspection is not None else ncr
    if owner is not None and len(list_for(session, inspection=inspection, ncr=ncr)) >= MAX_PER_OWNER:
        problems.append(_("At most %(n)s photos per record.", n=MAX_PER_OWNER))
    if problems:
        raise ValidationFailed(_("The photo was not accepted."), errors={"multipart": {field: problems}})
    attachment = Attachment(
        inspection_id=inspection.id if inspection else None,
        ncr_id=ncr.id if ncr else None,
        filename=safe_filename(filename, content_type),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=by,
    )
    session.add(attachment)
    session.flush()
    return attachment


def list_for(session: Session, *, inspection: Inspection | None = None, ncr: Nonconformance | None = None):
    statement = sa.select(Attachment).order_by(Attachment.id)
    if inspection is not None:
        statement = statement.where(Attachment.inspection_id == inspection.id)
    else:
        statement = statement.where(Attachment.ncr_id == ncr.id)
    return list(session.scalars(statement))


def response_headers(attachment: Attachment, *, download: bool) -> dict[str, str]:
    """Headers that keep a stored file an image: never sniffed, never scripted, never framed."""
    disposition = "attachment" if download else "inline"
    return {
        "Content-Type": attachment.content_type,
        "Content-Disposition": f'{disposition}; filename="{attachment.filename}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        "Cache-Control": "private, max-age=3600",
        "ETag": f'"{attachment.sha256}"',
    }
