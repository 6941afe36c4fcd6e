"""The bodies of the three sync interfaces: JSON, and XML for data requests from peers
that speak it (parsed with lxml, entities and network access off).

XML data request:
    <data batch="b1" table="items" seq="0">
      <row base="3" changed_ms="1700000000000" force="0">
        <pk><v>X100</v></pk>
        <values><v>X100</v><v>手机</v><v null="1"/>...</values>   (no <values>: a delete)
      </row>
    </data>
"""
from __future__ import annotations

import json

MAX_BODY = 32 * 1024 * 1024


class WireError(ValueError):
    """A body we cannot read; the message says what is wrong."""


def decode(body: bytes, content_type: str = "") -> dict:
    if len(body) > MAX_BODY:
        raise WireError("body too large")
    stripped = body.lstrip()
    if "xml" in content_type or stripped.startswith(b"<"):
        return _decode_xml(body)
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"bad JSON: {exc}") from None
    if not isinstance(value, dict):
        raise WireError("the body must be a JSON object")
    return value


def encode(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _v(element):
    if element.get("null") in ("1", "true"):
        return None
    text = element.text or ""
    kind = element.get("t")
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise WireError(f"bad {kind} value {text!r}") from None
    return text


def _decode_xml(body: bytes) -> dict:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise WireError(f"bad XML: {exc}") from None
    out: dict = dict(root.attrib)
    out["op"] = out.get("op", root.tag)
    if "seq" in out:
        try:
            out["seq"] = int(out["seq"])
        except ValueError:
            raise WireError("seq must be a number") from None
    rows = []
    for row in root.iter("row"):
        pk = row.find("pk")
        values = row.find("values")
        if pk is None:
            raise WireError("a row needs a <pk>")
        try:
            rows.append({
                "pk": [_v(v) for v in pk.iter("v")],
                "values": None if values is None else [_v(v) for v in values.iter("v")],
                "base": int(row.get("base", "0")),
                "changed_ms": int(row.get("changed_ms", "0")),
                "force": row.get("force") in ("1", "true"),
            })
        except ValueError:
            raise WireError("base and changed_ms must be numbers") from None
    if root.tag == "data":
        out["rows"] = rows
    return out
