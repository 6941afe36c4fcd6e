"""Jinja2 templates of the WAP pages, one folder per markup family (wml, xhtml, html).

A package so that the templates install with merp and are found through
importlib.resources, from a checkout and from a plain install alike."""
