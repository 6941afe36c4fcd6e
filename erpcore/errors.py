"""The root of every business error: a stable code the command layer and the web pages
turn into a reply in the user's language, and details for the message."""
from __future__ import annotations


class ErpError(Exception):
    code = "error"

    def __init__(self, message: str = "", code: str | None = None, **details):
        super().__init__(message or self.code)
        if code:
            self.code = code
        self.details = details


class NotFound(ErpError):
    code = "not_found"


class PermissionDenied(ErpError):
    code = "permission_denied"


class InvalidInput(ErpError):
    code = "invalid_input"


class Conflict(ErpError):
    code = "conflict"
