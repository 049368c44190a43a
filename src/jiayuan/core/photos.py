"""Uploaded photos: checked by their bytes, stored under a name we choose, served safely.

(Spreadsheets and other imported files are read by ``core.uploads``.)

One place for every app that takes photos from users (cases, councils). A photo is checked by
its first bytes (magic numbers), never by its name or the browser's claimed type: only JPEG
and PNG, at most ``limit`` per submission (:data:`MAX_PHOTOS` by default), each at most
:data:`MAX_BYTES`. Every check runs before anything is written, so a refused upload changes
nothing. The stored name is ours (``photo<i>.<ext>``), never the uploader's; a stored photo is
served by :func:`photo_response`, by the id of the row that holds it and after the caller's
access check, with its sniffed type and ``X-Content-Type-Options: nosniff``: never from a
path a user chose, and never as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, Http404

from jiayuan.core.errors import ValidationFailed

MAX_PHOTOS = 3
MAX_BYTES = 5 * 1024 * 1024
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
#: The only types a stored photo is ever served as.
PHOTO_TYPES = frozenset(content_type for _, content_type, _ in MAGIC)


@dataclass(frozen=True)
class Photo:
    """A checked photo: its bytes, its sniffed type and a safe file name."""

    data: bytes
    content_type: str
    name: str


def sniff(head: bytes) -> tuple[str, str] | None:
    """``(content_type, extension)`` of a JPEG or PNG by its first bytes; ``None`` otherwise."""
    for magic, content_type, ext in MAGIC:
        if head.startswith(magic):
            return content_type, ext
    return None


def check_photos(files: Sequence[Any], *, limit: int = MAX_PHOTOS) -> list[Photo]:
    """Read and check uploaded files (Django ``UploadedFile`` or anything with ``read()``).

    Refuses (``ValidationFailed``, details under ``photos``) more than ``limit`` files, an empty
    file, a file over 5 MB, or a file that is not JPEG or PNG by its magic bytes, whatever its
    name says.
    """
    files = [f for f in files if f is not None]
    if len(files) > limit:
        raise ValidationFailed(f"最多上传 {limit} 张照片", details={"photos": ["过多"]})
    photos: list[Photo] = []
    for i, f in enumerate(files, start=1):
        size = getattr(f, "size", None)
        if size is not None and size > MAX_BYTES:
            raise ValidationFailed(f"第 {i} 张照片超过 5 MB", details={"photos": ["过大"]})
        data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ValidationFailed(f"第 {i} 张照片超过 5 MB", details={"photos": ["过大"]})
        if not data:
            raise ValidationFailed(f"第 {i} 张照片是空文件", details={"photos": ["为空"]})
        kind = sniff(data[:8])
        if kind is None:
            raise ValidationFailed(f"第 {i} 个文件不是 JPEG 或 PNG 照片",
                                   details={"photos": ["格式不支持"]})
        photos.append(Photo(data=data, content_type=kind[0], name=f"photo{i}.{kind[1]}"))
    return photos


def photo_response(file: Any, content_type: str) -> FileResponse:
    """Serve a stored photo (a ``FieldFile``) as the image type it was checked to be.

    The caller has already checked that the viewer may see the row holding it. A type that is
    not a checked photo type (a row from before the checks) is not served: 404."""
    if not file or content_type not in PHOTO_TYPES:
        raise Http404("照片不存在")
    resp = FileResponse(file.open("rb"), content_type=content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Disposition"] = "inline"
    resp["Cache-Control"] = "private, max-age=3600"
    return resp
