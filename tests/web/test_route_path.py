"""The path a leaf resource routes on (gateway.web.paths)."""
from __future__ import annotations

import pytest
from twisted.web.test.requesthelper import DummyRequest

from gateway.web.paths import UNREADABLE, route_path


@pytest.mark.parametrize("postpath, path", [
    ([b"pending"], ["pending"]),
    ([b"pending", b""], ["pending"]),          # /wap/pending/
    ([b"doc", b"1001", b"", b""], ["doc", "1001"]),
    ([b""], []),                               # /wap/
    ([b"\xe8\xae\xa2\xe5\x8d\x95"], ["订单"]),
    ([b"doc", b"\xff"], [UNREADABLE]),         # not UTF-8: matches no route
])
def test_the_route_path_is_decoded_without_trailing_slashes(postpath, path):
    assert route_path(DummyRequest(postpath)) == path
