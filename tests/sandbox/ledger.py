"""What customers owe, recomputed from the transactions alone: the check on the sandbox's balances.

Works on stored objects (``Decimal`` amounts) and on wire JSON (numbers) alike.
QuickBooks' rule (reference §13.1): a customer's ``Balance`` is its open invoice
balances less its credits, the unapplied part of its payments and the unused part
of its credit memos; ``BalanceWithJobs`` adds its jobs' (and their jobs').
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def amount(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def open_amount(kind: str, txn: dict[str, Any]) -> Decimal:
    """What one transaction adds to its customer's A/R, in its own currency (credits negative)."""
    if kind == "Invoice":
        return amount(txn["Balance"])
    if kind == "Payment":
        return -amount(txn.get("UnappliedAmt", 0))
    return -amount(txn["RemainingCredit"])


def home(txn: dict[str, Any], value: Decimal) -> Decimal:
    """``value`` of the transaction's currency in the home currency, at the transaction's own rate."""
    return (value * amount(txn.get("ExchangeRate", 1))).quantize(CENT)


def owed(transactions: dict[str, Iterable[dict[str, Any]]]) -> dict[str, Decimal]:
    """Each customer's own balance from ``{"Invoice": [...], "Payment": [...], "CreditMemo": [...]}``."""
    own: dict[str, Decimal] = defaultdict(Decimal)
    for kind, rows in transactions.items():
        for txn in rows:
            own[txn["CustomerRef"]["value"]] += open_amount(kind, txn)
    return own


def with_jobs(customers: Iterable[dict[str, Any]], own: dict[str, Decimal]) -> dict[str, Decimal]:
    """Each customer's balance with its jobs' added, all the way down."""
    by_id = {c["Id"]: c for c in customers}
    total = {customer_id: own.get(customer_id, Decimal(0)) for customer_id in by_id}
    for customer_id in by_id:
        parent = by_id[customer_id].get("ParentRef")
        while parent:
            total[parent["value"]] += own.get(customer_id, Decimal(0))
            parent = by_id[parent["value"]].get("ParentRef")
    return total
