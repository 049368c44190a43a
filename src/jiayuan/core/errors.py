"""Domain errors: a stable machine-readable code, a Chinese message, an HTTP status.

Services raise these; the API layer (``jiayuan.config.api``) and the pages map them to
responses in one place. Nothing else decides status codes.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal a service makes. ``code`` is stable API; ``message`` is for people."""

    code = "error"
    status = 400
    default_message = "操作未能完成"

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "找不到该对象"


class OutOfScope(NotFound):
    """The object exists but lies outside the acting user's area.

    It answers exactly as an object that does not exist (404, ``not_found``, the same
    message): a reader learns nothing about what lies in another area, not even that it is
    there. The class stays apart so that code and logs can still tell the two cases apart.
    """


class Forbidden(DomainError):
    """The acting user's role may not perform this action."""

    code = "forbidden"
    status = 403
    default_message = "您的角色无权执行此操作"


class ValidationFailed(DomainError):
    code = "invalid"
    status = 422
    default_message = "输入有误"


class InvalidCoordinates(ValidationFailed):
    code = "invalid_coordinates"
    default_message = "坐标无效"


class ImportRejected(ValidationFailed):
    """A spreadsheet had problems; ``rows`` lists every one (sheet, row, column, message)."""

    code = "import_rejected"
    default_message = "导入文件有错误，未写入任何数据"

    def __init__(self, problems: list[dict[str, Any]], message: str | None = None) -> None:
        self.problems = problems
        super().__init__(message or f"导入文件有 {len(problems)} 处错误，未写入任何数据",
                         details=problems)


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409
    default_message = "当前状态下不能执行该操作"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "与现有数据冲突"


class FileTooLarge(DomainError):
    """An uploaded or imported file is over a size limit: as sent, or once decompressed
    (``core.uploads``)."""

    code = "file_too_large"
    status = 413
    default_message = "文件过大"


class TooManyRows(DomainError):
    """An uploaded or imported spreadsheet has more rows than the import accepts."""

    code = "too_many_rows"
    status = 413
    default_message = "文件行数超过上限"


class UnreadableFile(ValidationFailed):
    """An uploaded or imported file cannot be read: damaged, encrypted, an unknown encoding,
    a malformed row, or too many members in a zip."""

    code = "unreadable_file"
    default_message = "无法读取文件"


class InvalidPage(ValidationFailed):
    """A list API's ``offset`` or ``limit`` out of range (``core.pagination``)."""

    code = "invalid_page"
    default_message = "分页参数有误"
