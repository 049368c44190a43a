"""Rendering GeoReport v2 bodies as JSON or XML. Pure: no Django.

The XML follows the spec's element names (no namespace, UTF-8 declaration); the JSON is the
spec's mapping of that XML (a list where the XML repeats an element). A list under a key is
written as repeated child elements named by :data:`ITEM_NAMES` (``services`` → ``service``).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
ITEM_NAMES = {
    "services": "service", "service_requests": "request", "attributes": "attribute",
    "values": "value", "endpoints": "endpoint", "formats": "format", "errors": "error",
}
# Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR;
# surrogates; U+FFFE/U+FFFF). Dropped so a stray one in a description never breaks a document.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    else:
        element.text = _text(value)


def _append(parent: ET.Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        holder = ET.SubElement(parent, key)
        item_name = ITEM_NAMES.get(key, "item")
        for item in value:
            _fill(ET.SubElement(holder, item_name), item)
    else:
        _fill(ET.SubElement(parent, key), value)


def to_xml(root: str, value: Any) -> bytes:
    """``value`` under a root element; a list at the root repeats :data:`ITEM_NAMES`[root].

    ``None`` becomes an empty element, booleans ``true``/``false``.
    """
    element = ET.Element(root)
    if isinstance(value, list):
        item_name = ITEM_NAMES.get(root, "item")
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    else:
        _fill(element, value)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(fmt: str, root: str, value: Any) -> tuple[bytes, str]:
    """Body and content type of ``value`` in ``fmt`` (``json`` or ``xml``)."""
    if fmt == "xml":
        return to_xml(root, value), CONTENT_TYPES["xml"]
    return to_json(value), CONTENT_TYPES["json"]


def error_list(status: int, descriptions: list[str]) -> list[dict[str, Any]]:
    """The spec's error array: one ``{"code": status, "description": …}`` per problem."""
    return [{"code": status, "description": d} for d in descriptions]
