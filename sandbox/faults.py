"""QuickBooks error bodies.

Two shapes exist: the API's ``Fault`` envelope (capitalised keys) and the
gateway's lower-case body that answers an expired or malformed access token.
"""

from __future__ import annotations

from typing import Any


class QboFault(Exception):
    """An error the API answers with a ``Fault`` envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str,
        fault_type: str = "ValidationFault",
        element: str = "",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.fault_type = fault_type
        self.element = element

    def body(self, time: str) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
        return {"Fault": {"Error": [error], "type": self.fault_type}, "time": time}


class GatewayAuthFault(Exception):
    """401 from Intuit's gateway: an expired, unknown or malformed bearer token."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self, epoch_millis: int) -> dict[str, Any]:
        error = {
            "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "detail": self.detail,
            "code": "3200",
            "element": None,
        }
        return {
            "warnings": None,
            "intuitObject": None,
            "fault": {"error": [error], "type": "AUTHENTICATION"},
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": epoch_millis,
            "status": None,
            "cdcresponse": [],
        }


def parse_error(detail: str) -> QboFault:
    """4000: the statement could not be parsed."""
    return QboFault(400, "4000", "Error parsing query", f"QueryParserError: {detail}")


def invalid_query(detail: str) -> QboFault:
    """4001: the statement parsed but is not a valid query."""
    return QboFault(400, "4001", "Invalid query", f"QueryValidationError: {detail}")


def object_not_found(entity: str, entity_id: str) -> QboFault:
    """610: no such object (also what a deleted transaction answers)."""
    return QboFault(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({entity} {entity_id})",
    )


def not_authorized_for_realm(realm_id: str) -> QboFault:
    """3100: the token does not belong to this company, or the company does not exist."""
    return QboFault(
        403,
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        f"The application is not authorized to access company {realm_id}",
        fault_type="SERVICE",
    )
