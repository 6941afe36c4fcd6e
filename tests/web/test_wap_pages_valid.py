"""Every page in every markup family, checked by tools we did not write: Kannel's WML
compiler (and the compiled deck size), XHTML Basic 1.1 DTD validation, an HTML parser."""
from __future__ import annotations

import pytest
import pytest_twisted

from tests.web import validators
from tests.web.client import Client, field
from tests.web.world import PASSWORDS

FAMILIES = ("wml", "xhtml", "html")


async def every_page(c: Client, world) -> dict[str, bytes]:
    """The body of each kind of page a manager can reach, by name."""
    pages = {"login": (await c.get("/wap/")).body}
    pages["login_failed"] = (await c.post("/wap/login", {
        "ent": "DEMO", "user": "smith", "pw": "wrong", "t": field(pages["login"], "t")})).body
    pages["menu"] = (await c.login("DEMO", "smith", PASSWORDS["smith"])).body
    pages["pending"] = (await c.get("/wap/pending")).body
    pages["pending_2"] = (await c.get("/wap/pending", p="2")).body
    first, second = world.numbers[0], world.numbers[1]
    pages["doc_hostile"] = (await c.get(f"/wap/doc/{first}")).body
    pages["approved"] = (await c.post(f"/wap/doc/{second}/decide", {
        "decision": "approve", "comment": "fine <&> $x", "t": field(pages["doc_hostile"], "t")})).body
    pages["orders"] = (await c.get("/wap/orders")).body
    pages["stock_form"] = (await c.get("/wap/stock")).body
    pages["stock"] = (await c.get("/wap/stock", q="X100")).body
    pages["stock_unknown"] = (await c.get("/wap/stock", q="NOPE$1")).body
    pages["alerts_added"] = (await c.post("/wap/alerts", {
        "action": "subscribe", "item": "X100", "threshold": "5", "t": field(pages["menu"], "t")})).body
    pages["not_found"] = (await c.get("/wap/nowhere")).body
    return pages


@pytest.mark.parametrize("family", FAMILIES)
@pytest_twisted.ensureDeferred
async def test_every_page_passes_the_familys_validator(client, world, family):
    if family == "wml" and not validators.have_wml_tester():
        pytest.skip("Kannel's wml_tester (kannel-extras) is not installed")
    if family == "xhtml" and not validators.have_xhtml_dtd():
        pytest.skip("w3c-sgml-lib's XHTML Basic 1.1 DTD is not in the XML catalog")
    pages = await every_page(client(family), world)
    check = {"wml": lambda b: validators.check_wml(b)[1], "xhtml": validators.check_xhtml,
             "html": validators.check_html}[family]
    problems = {name: check(body) for name, body in pages.items()}
    assert {name: p for name, p in problems.items() if p} == {}


@pytest_twisted.ensureDeferred
async def test_every_wml_deck_compiles_under_1400_bytes(client, world):
    if not validators.have_wml_tester():
        pytest.skip("Kannel's wml_tester (kannel-extras) is not installed")
    pages = await every_page(client("wml"), world)
    sizes = {name: validators.compile_wml(body)[0] for name, body in pages.items()}
    assert all(0 < len(binary) < validators.MAX_DECK for binary in sizes.values()), {
        name: len(b) for name, b in sizes.items()}
