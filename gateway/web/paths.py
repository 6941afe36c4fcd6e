"""The path segments a leaf resource routes on: decoded, trailing slashes dropped."""
from __future__ import annotations

#: Stands for a path that is not UTF-8: no route matches it, so it is answered "not found".
UNREADABLE = "?"


def route_path(request) -> list[str]:
    """``request.postpath`` as text (``/wap/pending/`` and ``/wap/pending`` alike); a
    segment that is not UTF-8 makes the whole path ``[UNREADABLE]``."""
    try:
        path = [segment.decode("utf-8") for segment in request.postpath]
    except UnicodeDecodeError:
        return [UNREADABLE]
    while path and path[-1] == "":
        path.pop()
    return path
