"""Choosing the markup family and escaping, WML's ``$`` included, by default."""
from __future__ import annotations

import jinja2
import pytest

from gateway.web.wap.markup import HTML, WML, XHTML, Renderer, choose_family


@pytest.mark.parametrize("accept, fmt, family", [
    ("text/vnd.wap.wml, image/vnd.wap.wbmp", None, WML),
    ("application/vnd.wap.xhtml+xml, text/html, text/vnd.wap.wml", None, XHTML),
    ("text/vnd.wap.wml;q=0.5, application/vnd.wap.xhtml+xml;q=0.4", None, WML),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None, HTML),
    ("", None, HTML),
    (None, None, HTML),
    ("text/vnd.wap.wml;q=0", None, HTML),
    ("text/vnd.wap.wml;q=bad", None, HTML),
    ("text/html", "wml", WML),
    ("text/vnd.wap.wml", "xhtml", XHTML),
    ("text/vnd.wap.wml", "pdf", WML),
])
def test_the_family_follows_accept_and_fmt_overrides(accept, fmt, family):
    assert choose_family(accept, fmt) == family


def renderer(source: str) -> Renderer:
    loader = jinja2.DictLoader({f"{f}/t.{f}": source for f in (WML, XHTML, HTML)})
    return Renderer(loader)


def test_wml_doubles_dollars_in_every_value_without_being_asked():
    out = renderer('<p title="{{ v }}">{{ v }} {{ v|e }} {{ v|short }} $(keep)</p>').render(
        WML, "t", {"v": "a<b & $x $(y)"}).body.decode()
    escaped = "a&lt;b &amp; $$x $$(y)"
    assert out == f'<p title="{escaped}">{escaped} {escaped} {escaped} $(keep)</p>'


def test_xhtml_and_html_escape_markup_but_leave_dollars():
    for family in (XHTML, HTML):
        out = renderer("{{ v }}").render(family, "t", {"v": "<i>&$x"}).body.decode()
        assert out == "&lt;i&gt;&amp;$x"


def test_a_missing_template_value_is_an_error_not_a_blank():
    with pytest.raises(jinja2.UndefinedError):
        renderer("{{ nothing }}").render(HTML, "t", {})
