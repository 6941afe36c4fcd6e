"""Markup families of the WAP pages: which one a client gets and how a page is rendered.

Page logic is written once (``views``); each family has its own templates under
``wml_templates/<family>/``. Autoescaping is always on; WML additionally doubles every
``$`` in interpolated values, because a WML browser would read ``$name`` as a variable.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import jinja2
from markupsafe import Markup, escape

WML, XHTML, HTML = "wml", "xhtml", "html"
FAMILIES = (WML, XHTML, HTML)

CONTENT_TYPES = {
    WML: b"text/vnd.wap.wml; charset=utf-8",
    XHTML: b"application/vnd.wap.xhtml+xml; charset=utf-8",
    HTML: b"text/html; charset=utf-8",
}
DOCTYPES = {
    WML: '<!DOCTYPE wml PUBLIC "-//WAPFORUM//DTD WML 1.3//EN" "http://www.wapforum.org/DTD/wml13.dtd">',
    XHTML: ('<!DOCTYPE html PUBLIC "-//WAPFORUM//DTD XHTML Mobile 1.2//EN" '
            '"http://www.openmobilealliance.org/tech/DTD/xhtml-mobile12.dtd">'),
    HTML: "<!DOCTYPE html>",
}
LAYOUTS = {WML: "wml/base.wml", XHTML: "xhtml/base.xhtml", HTML: "html/base.html"}
# Rows a list page shows per family: a WML deck must stay under 1,400 compiled bytes.
PAGE_SIZE = {WML: 4, XHTML: 10, HTML: 20}
# Longest free text (names, comments) a family shows before cutting it short.
TEXT_LIMIT = {WML: 40, XHTML: 200, HTML: 500}

_MEDIA = {"text/vnd.wap.wml": WML, "application/vnd.wap.xhtml+xml": XHTML, "text/html": HTML}
_PREFERENCE = {XHTML: 3, WML: 2, HTML: 1}  # on equal q: a phone that offers XHTML-MP gets it


def choose_family(accept: str | None, fmt: str | None = None) -> str:
    """The family for a request: ``fmt`` when it names one, else the highest-q family the
    ``Accept`` header names (XHTML-MP, then WML, on a tie), else HTML. Desktop browsers
    name none of the WAP types and so get HTML."""
    if fmt in FAMILIES:
        return fmt
    best, best_rank = HTML, (0.0, 0)
    for part in (accept or "")[:2000].split(","):
        media, _, params = part.strip().partition(";")
        family = _MEDIA.get(media.strip().lower())
        if family is None:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        rank = (q, _PREFERENCE[family])
        if q > 0 and rank > best_rank:
            best, best_rank = family, rank
    return best


def wml_text(value) -> Markup:
    """Escape for WML: XML escaping plus ``$`` doubled (WML variable syntax)."""
    return Markup(str(escape(value)).replace("$", "$$"))


def _wml_finalize(value):
    # Markup is template output whose values were finalized when it was rendered.
    if value is None or isinstance(value, Markup):
        return value
    return wml_text(value)


def _shorten(limit: int):
    def shorten(value, n: int | None = None) -> str:
        text = " ".join(str(value if value is not None else "").split())
        cap = min(limit, n) if n else limit
        return text if len(text) <= cap else text[: max(1, cap - 1)] + "…"
    return shorten


def _loader() -> jinja2.BaseLoader:
    return jinja2.FileSystemLoader(str(resources.files("wml_templates")))


@dataclass(frozen=True)
class Rendered:
    status: int
    content_type: bytes
    body: bytes


class Renderer:
    """One Jinja environment per family, sharing a loader over ``wml_templates``."""

    def __init__(self, loader: jinja2.BaseLoader | None = None):
        loader = loader or _loader()
        self._envs = {}
        for family in FAMILIES:
            env = jinja2.Environment(
                loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True,
                finalize=_wml_finalize if family == WML else None,
                undefined=jinja2.StrictUndefined, auto_reload=False,
            )
            if family == WML:
                env.filters["e"] = env.filters["escape"] = wml_text
            env.filters["short"] = _shorten(TEXT_LIMIT[family])
            env.globals["family"] = family
            env.globals["doctype"] = Markup(DOCTYPES[family])
            env.globals["layout"] = LAYOUTS[family]
            self._envs[family] = env

    def render(self, family: str, template: str, data: dict, status: int = 200) -> Rendered:
        env = self._envs[family]
        text = env.get_template(f"{family}/{template}.{family}").render(**data)
        if family == WML:  # phones pay for every byte; indentation is noise
            text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
        return Rendered(status, CONTENT_TYPES[family], text.encode("utf-8"))
