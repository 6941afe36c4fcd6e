"""Routing by service code: an MO's service code is found from its address, and an MT
leaves by the link that serves the address it is sent from."""
from dataclasses import dataclass

from gateway.pipeline.routing import Router


@dataclass
class Link:
    name: str


ROUTER = Router("1065712345", {"cm": ["10658", "1065712345"], "unicom": ["10655"], "spare": []})


def test_the_longest_service_code_an_mo_address_starts_with_is_its_service_code():
    assert ROUTER.service_code("cm", "106571234501") == "1065712345"
    assert ROUTER.service_code("cm", "106580203") == "10658"
    assert ROUTER.service_code("unicom", "1065501") == "10655"


def test_an_address_no_link_claims_falls_back_to_the_default_code():
    assert ROUTER.service_code("spare", "999") == "1065712345"


def test_a_reply_leaves_by_the_link_it_came_by_when_that_link_serves_its_address():
    links = [Link("unicom"), Link("cm")]
    assert ROUTER.choose("106580203", "cm", links).name == "cm"


def test_a_notification_from_a_cmpp_number_never_leaves_by_the_other_operator():
    links = [Link("unicom"), Link("cm")]
    assert ROUTER.choose("106580203", None, links).name == "cm"
    assert ROUTER.choose("1065501", None, links).name == "unicom"
    assert ROUTER.choose("106580203", None, [Link("unicom")]) is None, "wait for the right link"


def test_an_address_no_link_claims_may_leave_by_any_ready_link():
    assert ROUTER.choose("12345", None, [Link("spare")]).name == "spare"
