"""POST /api/v1/registry/import: upload a registry spreadsheet (administrators only).

Thin: read the upload, call ``registry.io.service.import_registry``. A rejected file answers
422 with ``error.details`` listing every problem as {sheet, row, column, message}
(``ImportRejected`` is mapped to that response in ``config.api``, like every domain error).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from jiayuan.accounts.permissions import require
from jiayuan.core import uploads
from jiayuan.core.errors import ImportRejected
from jiayuan.registry.io.files import SourceError, read_bytes
from jiayuan.registry.io.parse import problem
from jiayuan.registry.io.service import import_registry

router = Router(tags=["registry"])


class SheetCounts(Schema):
    created: int
    updated: int
    unchanged: int


class ImportOut(Schema):
    file_name: str
    sha256: str
    dry_run: bool
    changed: int
    sheets: dict[str, SheetCounts]


@router.post("/import", response=ImportOut,
             summary="Import the registry from .xlsx, .csv or a .zip of .csv (admin only)")
def import_spreadsheet(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008 - Ninja's parameter declaration
    crs: str | None = Form(None),  # noqa: B008
    sheet: str | None = Form(None),  # noqa: B008
    dry_run: bool = Form(False),  # noqa: B008
) -> dict[str, object]:
    require(request.user, "registry.import")
    name = file.name or "upload"
    limits = uploads.web_limits()  # over a limit: 413 file_too_large / too_many_rows
    data = uploads.read_upload(file, limits)
    try:
        raw, digest = read_bytes(name, data, sheet=sheet, limits=limits)
    except SourceError as exc:
        raise ImportRejected([dict(problem(name, None, None, str(exc)))]) from None
    report = import_registry(raw_sheets=raw, file_name=name, sha256=digest, actor=request.user,
                             default_crs=crs, dry_run=dry_run)
    return {"file_name": report.file_name, "sha256": report.sha256, "dry_run": report.dry_run,
            "changed": report.changed, "sheets": report.sheets}
