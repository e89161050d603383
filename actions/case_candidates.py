"""Collection cases: map a ``marts.collection_case_candidates`` row to the agency's columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from actions.values import (
    Problem,
    as_decimal,
    check_currency,
    check_positive_amount,
    check_text,
    format_plain_amount,
    is_valid_email,
    to_cents,
)

CASE_COLUMNS = (
    "case_reference", "debtor_name", "debtor_email", "debtor_phone", "address_line1", "city",
    "region", "postal_code", "country", "currency", "principal_amount", "invoice_count",
    "invoice_numbers", "oldest_due_date", "days_past_due", "as_of_date",
)  # fmt: skip


class CaseKey(NamedTuple):
    """Identity of a case: one per customer, exported at most once, ever."""

    realm_id: str
    customer_id: str

    @property
    def case_reference(self) -> str:
        """The reference the agency files the case under: ``QBC-{realm_id}-{customer_id}``."""
        return f"QBC-{self.realm_id}-{self.customer_id}"


@dataclass(frozen=True)
class CaseCandidate:
    """One row of ``marts.collection_case_candidates``: a customer to hand to the agency."""

    realm_id: str
    customer_id: str
    customer_name: str | None
    customer_email: str | None
    customer_phone: str | None
    bill_line1: str | None
    bill_city: str | None
    bill_region: str | None
    bill_postal_code: str | None
    bill_country: str | None
    currency: str
    invoice_count: int
    invoice_doc_numbers: str | None
    oldest_due_date: date
    max_days_past_due: int
    overdue_balance: Decimal
    as_of_date: date

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CaseCandidate:
        """Build a candidate from a mart row; extra columns are ignored.

        Ids become strings and exact amounts (int, str) become Decimal; anything else is
        kept as it is so that validation can name it.
        """
        values = {field.name: row.get(field.name) for field in fields(cls)}
        for name in ("realm_id", "customer_id"):
            values[name] = "" if values[name] is None else str(values[name])
        values["overdue_balance"] = as_decimal(values["overdue_balance"])
        return cls(**values)

    @property
    def key(self) -> CaseKey:
        """The case key ``(realm_id, customer_id)``."""
        return CaseKey(self.realm_id, self.customer_id)


@dataclass(frozen=True)
class AgencyCase:
    """A validated case, ready for the agency's CSV and the export ledger."""

    key: CaseKey
    row: dict[str, str]
    principal_amount: Decimal
    currency: str


class CaseValidationError(ValueError):
    """A case that must not be exported; the message names the case and the fields."""

    def __init__(self, case_reference: str, problems: list[Problem]) -> None:
        self.case_reference = case_reference
        self.problems = tuple(problems)
        super().__init__(f"case {case_reference}: " + "; ".join(str(p) for p in problems))


def build_agency_case(candidate: CaseCandidate) -> AgencyCase:
    """Validate a candidate and map it to the agency's columns.

    Raises:
        CaseValidationError: Naming the case reference and every field at fault.
    """
    reference = candidate.key.case_reference
    problems = _case_problems(candidate)
    if problems:
        raise CaseValidationError(reference, problems)
    row = {
        "case_reference": reference,
        "debtor_name": _text(candidate.customer_name),
        "debtor_email": _text(candidate.customer_email),
        "debtor_phone": _text(candidate.customer_phone),
        "address_line1": _text(candidate.bill_line1),
        "city": _text(candidate.bill_city),
        "region": _text(candidate.bill_region),
        "postal_code": _text(candidate.bill_postal_code),
        "country": _text(candidate.bill_country),
        "currency": candidate.currency,
        "principal_amount": format_plain_amount(candidate.overdue_balance),
        "invoice_count": str(candidate.invoice_count),
        "invoice_numbers": _text(candidate.invoice_doc_numbers),
        "oldest_due_date": candidate.oldest_due_date.isoformat(),
        "days_past_due": str(candidate.max_days_past_due),
        "as_of_date": candidate.as_of_date.isoformat(),
    }
    return AgencyCase(candidate.key, row, to_cents(candidate.overdue_balance), candidate.currency)


def _case_problems(candidate: CaseCandidate) -> list[Problem]:
    """Every reason the agency could not act on this case."""
    checks = [
        check_text("debtor_name", candidate.customer_name),
        check_positive_amount("principal_amount", candidate.overdue_balance),
        check_currency("currency", candidate.currency),
        _reachability_problem(candidate),
    ]
    if not candidate.realm_id or not candidate.customer_id:
        checks.append(Problem("case_reference", "needs both realm_id and customer_id"))
    if not _is_count(candidate.invoice_count, minimum=1):
        checks.append(Problem("invoice_count", "must be a whole number, 1 or more"))
    if not _is_count(candidate.max_days_past_due, minimum=0):
        checks.append(Problem("days_past_due", "must be a whole number of days, 0 or more"))
    for name, value in (
        ("oldest_due_date", candidate.oldest_due_date),
        ("as_of_date", candidate.as_of_date),
    ):
        if not isinstance(value, date):
            checks.append(Problem(name, "must be a date"))
    return [problem for problem in checks if problem is not None]


def _reachability_problem(candidate: CaseCandidate) -> Problem | None:
    """The agency needs a valid email or a postal address with line 1, city and postcode."""
    email = _text(candidate.customer_email)
    if email and not is_valid_email(email):
        return Problem("debtor_email", f"is not a single valid email address: {email!r}")
    address = {
        "address_line1": candidate.bill_line1,
        "city": candidate.bill_city,
        "postal_code": candidate.bill_postal_code,
    }
    missing = [name for name, value in address.items() if not _text(value)]
    if email or not missing:
        return None
    return Problem(
        "debtor_email",
        f"is missing and the postal address lacks {', '.join(missing)}: no way to reach the debtor",
    )


def _is_count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _text(value: object) -> str:
    """A trimmed string, empty for None."""
    return "" if value is None else str(value).strip()


def as_case_candidate(row: CaseCandidate | Mapping[str, Any]) -> CaseCandidate:
    """Accept either a candidate or a mart row."""
    return row if isinstance(row, CaseCandidate) else CaseCandidate.from_row(row)
