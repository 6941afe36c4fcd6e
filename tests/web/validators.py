"""Checks of the pages by tools we did not write: Kannel's WML compiler (wml_tester),
libxml2's DTD validation against XHTML Basic 1.1 from w3c-sgml-lib (through the system
XML catalog, offline), lxml's HTML parser; plus our structural checks."""
from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from urllib.parse import parse_qs, urlsplit

from lxml import etree, html as lxml_html

WML_TESTER = "/usr/lib/kannel/test/wml_tester"
CATALOG = "/etc/xml/catalog"
XHTML_BASIC_11 = "-//W3C//DTD XHTML Basic 1.1//EN"
WML_DOCTYPE = '<!DOCTYPE wml PUBLIC "-//WAPFORUM//DTD WML 1.3//EN" "http://www.wapforum.org/DTD/wml13.dtd">'
MP_DOCTYPE_ID = "-//WAPFORUM//DTD XHTML Mobile 1.2//EN"
MAX_DECK = 1400
_CAT_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"


def have_wml_tester() -> bool:
    return os.access(WML_TESTER, os.X_OK)


# -- WML --------------------------------------------------------------------------------------

def compile_wml(deck: bytes) -> tuple[bytes, list[str]]:
    """(WBXML, warnings and errors) from Kannel's WML compiler."""
    with tempfile.NamedTemporaryFile(suffix=".wml") as source:
        source.write(deck)
        source.flush()
        logged = subprocess.run([WML_TESTER, source.name], capture_output=True, timeout=30)
        binary = subprocess.run([WML_TESTER, "-b", source.name], capture_output=True, timeout=30)
    text = logged.stdout.decode("latin-1") + logged.stderr.decode("latin-1")
    problems = [line for line in text.splitlines() if re.search(r"\b(WARNING|ERROR|PANIC):", line)]
    if "wml_compile returned: 0" not in text or binary.returncode != 0:
        problems.append(f"wml_compile failed (rc {binary.returncode})")
    return binary.stdout, problems


def wml_structure(deck: bytes) -> list[str]:
    """Our checks: doctype and charset, unique card ids, internal links resolve, every card
    has a way back and to the menu, every ``$`` is ``$$`` or names a variable the deck sets."""
    problems = []
    text = deck.decode("utf-8")
    if not text.startswith('<?xml version="1.0" encoding="UTF-8"?>'):
        problems.append("no XML declaration with UTF-8")
    if WML_DOCTYPE not in text:
        problems.append("no WML 1.3 doctype")
    root = etree.fromstring(deck, etree.XMLParser(no_network=True, resolve_entities=False))
    ids = [card.get("id") for card in root.iter("card")]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"card ids not unique: {ids}")
    variables = {el.get("name") for el in root.iter("input", "select", "setvar")}
    has_prev = any(do.get("type") == "prev" for do in root.iter("do"))
    for card in root.iter("card"):
        hrefs = [el.get("href") for el in card.iter("a", "go")]
        if not has_prev:
            problems.append(f"card {card.get('id')} has no way back")
        if not any(urlsplit(h).path.endswith("/menu") for h in hrefs):
            problems.append(f"card {card.get('id')} has no link to the menu")
        for href in hrefs:
            if href.startswith("#") and href[1:] not in ids:
                problems.append(f"link {href} to no card")
    for value in [*root.itertext(), *(v for el in root.iter() for v in el.attrib.values())]:
        for match in re.finditer(r"\$(\$|\((\w+)(:\w+)?\)|\w+)?", value):
            token = match.group(1)
            if token == "$":
                continue
            name = match.group(2) or token
            if name not in variables:
                problems.append(f"stray WML variable in {value!r}")
    return problems


def wml_links(deck: bytes) -> list[tuple[str, str, dict]]:
    """(method, href, postfields) of every link and form in the deck."""
    root = etree.fromstring(deck)
    found = [("get", a.get("href"), {}) for a in root.iter("a")]
    for go in root.iter("go"):
        fields = {pf.get("name"): pf.get("value") for pf in go.iter("postfield")}
        found.append((go.get("method", "get"), go.get("href"), fields))
    return found


def check_wml(deck: bytes) -> tuple[int | None, list[str]]:
    """(compiled size, problems); size None when Kannel's compiler is not installed."""
    problems = wml_structure(deck)
    if not have_wml_tester():
        return None, problems
    binary, compiler = compile_wml(deck)
    problems += compiler
    if len(binary) >= MAX_DECK:
        problems.append(f"compiled deck is {len(binary)} bytes")
    return len(binary), problems


# -- XHTML-MP -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _catalog_entries(path: str) -> list[tuple[str, str, str]]:
    """(kind, key, target) of an OASIS XML catalog, targets made absolute."""
    tree = etree.parse(path)
    base = os.path.dirname(path)
    entries = []
    for el in tree.iter():
        kind = el.tag.replace(_CAT_NS, "") if isinstance(el.tag, str) else ""
        key = el.get("publicId") or el.get("systemId") or el.get("publicIdStartString") or el.get(
            "systemIdStartString") or ""
        target = el.get("uri") or el.get("catalog") or ""
        if target.startswith("file://"):
            target = target[len("file://"):]
        elif target and not target.startswith("/"):
            target = os.path.join(base, target)
        if kind in ("public", "system", "delegatePublic", "delegateSystem", "nextCatalog"):
            entries.append((kind, key, target))
    return entries


def catalog_resolve(public_id: str | None, system_id: str | None, catalog: str = CATALOG) -> str | None:
    """The local file the XML catalog maps this public or system identifier to."""
    for kind, key, target in _catalog_entries(catalog):
        if (kind == "public" and key == public_id) or (kind == "system" and key == system_id):
            return target
    for kind, key, target in _catalog_entries(catalog):
        if (kind == "delegatePublic" and public_id and public_id.startswith(key)) or (
                kind == "delegateSystem" and system_id and system_id.startswith(key)):
            found = catalog_resolve(public_id, system_id, target)
            if found:
                return found
    for kind, _key, target in _catalog_entries(catalog):
        if kind == "nextCatalog":
            found = catalog_resolve(public_id, system_id, target)
            if found:
                return found
    return None


@functools.lru_cache(maxsize=1)
def xhtml_basic_dtd() -> etree.DTD:
    """The XHTML Basic 1.1 DTD found through the catalog. libxml2 resolves the DTD's own
    modules through the catalog too; lxml's bundled libxml2 may not look at /etc/xml by
    default, hence XML_CATALOG_FILES (read when libxml2 first needs a catalog)."""
    os.environ.setdefault("XML_CATALOG_FILES", CATALOG)
    return etree.DTD(catalog_resolve(XHTML_BASIC_11, None))


def have_xhtml_dtd() -> bool:
    return os.path.exists(CATALOG) and catalog_resolve(XHTML_BASIC_11, None) is not None


def check_xhtml(page: bytes) -> list[str]:
    """XHTML-MP: its doctype, then DTD validation against XHTML Basic 1.1 (the profile
    XHTML-MP 1.2 is built on) resolved offline through the XML catalog."""
    problems = []
    text = page.decode("utf-8")
    if not text.startswith('<?xml version="1.0" encoding="UTF-8"?>'):
        problems.append("no XML declaration with UTF-8")
    doctype = re.search(r"<!DOCTYPE html PUBLIC \"([^\"]+)\" \"([^\"]+)\">", text)
    if not doctype or doctype.group(1) != MP_DOCTYPE_ID:
        problems.append("no XHTML-MP doctype")
        return problems
    root = etree.fromstring(page, etree.XMLParser(no_network=True, resolve_entities=False))
    dtd = xhtml_basic_dtd()
    if not dtd.validate(root):
        problems += [f"not valid XHTML Basic 1.1: {e.line}: {e.message}" for e in dtd.error_log]
    problems += _nav_problems([a.get("href") for a in root.iter("{http://www.w3.org/1999/xhtml}a")])
    return problems


# -- HTML ---------------------------------------------------------------------------------

def check_html(page: bytes) -> list[str]:
    """HTML: well-formed (an XML parser accepts it), lxml.html finds a title, the charset,
    and a way to the menu."""
    problems, doc = _html_basics(page)
    problems += _nav_problems(doc.xpath("//a/@href"))
    return problems


def _html_basics(page: bytes):
    """(problems, parsed document) of what every HTML page needs: the doctype, an XML
    parser accepts it, a title and the charset."""
    problems = []
    text = page.decode("utf-8")
    if not text.startswith("<!DOCTYPE html>"):
        problems.append("no HTML doctype")
    try:
        etree.fromstring(text.replace("<!DOCTYPE html>", "", 1).encode("utf-8"),
                         etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as error:
        problems.append(f"not well-formed: {error}")
    doc = lxml_html.document_fromstring(page)
    if not (doc.findtext(".//title") or "").strip():
        problems.append("no title")
    if not doc.xpath("//meta[@charset='utf-8']"):
        problems.append("no charset")
    return problems, doc


def _nav_problems(hrefs) -> list[str]:
    if not any(urlsplit(h).path.endswith("/menu") for h in hrefs):
        return ["no link to the menu"]
    return []


def query_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def check_console_html(page: bytes) -> list[str]:
    """An operator console page: well-formed (an XML parser accepts it), a title and the
    charset, unique ids, every POST form carrying the CSRF field, every visible field with
    a label, and no script at all (the console needs none; its CSP forbids it)."""
    problems, doc = _html_basics(page)
    ids = doc.xpath("//@id")
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    for form in doc.xpath("//form[@method='post']"):
        if not form.xpath(".//input[@type='hidden'][@name='csrf'][@value!='']"):
            problems.append(f"POST form to {form.get('action')} without a CSRF field")
    labelled = set(doc.xpath("//label/@for"))
    for field in doc.xpath("//input[not(@type='hidden')] | //select | //textarea"):
        if field.get("id") not in labelled:
            problems.append(f"field {field.get('name')} has no label")
    if doc.xpath("//script") or "javascript:" in page.decode("utf-8").lower():
        problems.append("a script")
    return problems
