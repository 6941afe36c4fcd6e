"""The WAP front end (issue 6): approval pages for WML 1.3, XHTML-MP and HTML browsers,
signed approval links for SMS, and WAP Push Service Indications."""
from gateway.web.wap.links import approval_link
from gateway.web.wap.push import wap_push_si
from gateway.web.wap.resource import WapPages

__all__ = ["WapPages", "approval_link", "wap_push_si"]
