"""Rendering: the spec's element names, lists as repeated elements, text that always parses."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from jiayuan.open311.formats import error_list, render, to_xml


def test_lists_repeat_the_singular_element_and_none_is_empty():
    xml = to_xml("service_requests", [{"service_request_id": "JY1", "account_id": None,
                                       "metadata": True}])
    root = ET.fromstring(xml)
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    (item,) = root.findall("request")
    assert item.findtext("service_request_id") == "JY1"
    assert item.findtext("account_id") == "" and item.findtext("metadata") == "true"


def test_nested_lists_use_the_spec_names():
    root = ET.fromstring(to_xml("service_definition", {"attributes": [
        {"code": "a", "values": [{"key": "k", "name": "n"}]}]}))
    assert root.findtext("attributes/attribute/values/value/key") == "k"


def test_errors_render_as_the_spec_array_in_both_formats():
    errors = error_list(403, ["api_key：API 密钥无效"])
    body, content_type = render("json", "errors", errors)
    assert json.loads(body) == [{"code": 403, "description": "api_key：API 密钥无效"}]
    assert content_type == "application/json; charset=utf-8"
    body, content_type = render("xml", "errors", errors)
    assert ET.fromstring(body).findtext("error/code") == "403"
    assert content_type == "text/xml; charset=utf-8"


@given(st.text())
def test_any_text_yields_a_parseable_document_keeping_every_xml_character(text):
    root = ET.fromstring(to_xml("services", [{"description": text}]))
    kept = root.findtext("service/description") or ""
    allowed = "".join(ch for ch in text if ch in "\t\n\r" or "\u0020" <= ch <= "\ud7ff"
                      or "\ue000" <= ch <= "\ufffd" or ch >= "\U00010000")
    # XML parsers normalise a bare CR to LF.
    assert kept == allowed.replace("\r\n", "\n").replace("\r", "\n")
