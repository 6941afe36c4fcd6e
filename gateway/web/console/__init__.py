"""The operator console's HTML pages (issue 6 point 6): the telecom operator signs in with
the operator token and manages enterprise platforms, their services and users from a
desktop browser. What each page does is ``gateway.web.operator_actions``, the same work
the JSON API under /api does; this package only adds sessions, forms and templates."""
from gateway.web.console.resource import OperatorConsole

__all__ = ["OperatorConsole"]
