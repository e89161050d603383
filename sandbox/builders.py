"""Objects written through the API, completed and checked the way QuickBooks does.

A create or update body gives the writable fields; the sandbox fills in what
QuickBooks computes (Id, SyncToken, MetaData, DocNumber, DueDate from the term,
the subtotal line, TotalAmt and every balance) and refuses bad input with a
ValidationFault naming the element. A full update clears writable fields the
body leaves out; a sparse update (``"sparse": true``) changes only those given.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sandbox.catalog import CURRENCY_NAMES, DISCOUNTS_GIVEN, UNDEPOSITED_FUNDS, exchange_rate
from sandbox.faults import QboFault
from sandbox.store import CENT, Company, meta_data

#: Fields QuickBooks owns: never taken from a body.
COMPUTED = frozenset(
    {
        "Id",
        "SyncToken",
        "MetaData",
        "domain",
        "sparse",
        "TotalAmt",
        "Balance",
        "HomeBalance",
        "HomeTotalAmt",
        "UnappliedAmt",
        "RemainingCredit",
        "BalanceWithJobs",
        "FullyQualifiedName",
        "LinkedTxn",
        "time",
    }
)


def invalid(element: str, detail: str, code: str = "2010") -> QboFault:
    message = {
        "2010": "Request has invalid or unsupported property",
        "2020": "Required param missing, need to supply the required value for the API",
        "2500": "Invalid Reference Id",
        "6240": "Duplicate Name Exists Error",
        "6000": "A business validation error has occurred while processing your request",
        "6070": "Business Validation Error",
    }[code]
    return QboFault(400, code, message, detail, element=element)


def money(value: Any, element: str, places: Decimal | None = CENT) -> Decimal:
    """A number from a body, as Decimal (rounded to cents unless ``places`` is None)."""
    if isinstance(value, bool) or value is None:
        raise invalid(element, f"{element} is required and must be a number", "2020" if value is None else "2010")
    try:
        number = Decimal(str(value))
        return number if places is None else number.quantize(places)
    except InvalidOperation as exc:
        raise invalid(element, f"{element}: '{value}' is not a number") from exc


def _date(value: Any, element: str, default: date) -> date:
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise invalid(element, f"{element}: '{value}' is not a date (YYYY-MM-DD)") from exc


def reference(company: Company, body: dict[str, Any], element: str, entity: str) -> dict[str, Any]:
    """The object a required reference of ``body`` names (2020 if missing, 2500 if it does not exist)."""
    ref = body.get(element)
    if not isinstance(ref, dict) or not ref.get("value"):
        raise invalid(element, f"Required parameter {element} is missing in the request", "2020")
    return referenced(company, ref, element, entity)


def referenced(company: Company, ref: dict[str, Any], element: str, entity: str) -> dict[str, Any]:
    """The object ``ref`` names; fault 2500 if the company has no such ``entity``."""
    found = company.entities[entity].get(str(ref.get("value")))
    if found is None:
        raise invalid(element, f"Invalid Reference Id : {entity} {ref.get('value')} does not exist", "2500")
    return dict(found)


#: References a body may carry, and the list each must name an object of.
REFERENCES = {
    "CustomerRef": "Customer",
    "ParentRef": "Customer",
    "SalesTermRef": "Term",
    "PaymentMethodRef": "PaymentMethod",
    "DepositToAccountRef": "Account",
    "ARAccountRef": "Account",
}


def check_references(company: Company, body: dict[str, Any]) -> None:
    """Every reference of ``body`` to a list the sandbox holds names an object that exists (else 2500)."""
    for element, entity in REFERENCES.items():
        ref = body.get(element)
        if isinstance(ref, dict) and ref.get("value"):
            referenced(company, ref, element, entity)


def _as_ref(obj: dict[str, Any]) -> dict[str, Any]:
    return {"value": obj["Id"], "name": obj.get("FullyQualifiedName") or obj.get("Name", "")}


def identity(existing: dict[str, Any] | None, new_id: str, now: datetime) -> dict[str, Any]:
    """Id, SyncToken and MetaData: new ones, or the existing object's moved on by one update."""
    if existing is None:
        return {"domain": "QBO", "sparse": False, "Id": new_id, "SyncToken": "0", "MetaData": meta_data(now)}
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": existing["Id"],
        "SyncToken": str(int(existing["SyncToken"]) + 1),
        "MetaData": {"CreateTime": existing["MetaData"]["CreateTime"], "LastUpdatedTime": now},
    }


def customer_fields(company: Company, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    name = str(
        body.get("DisplayName") or " ".join(str(body[k]) for k in ("GivenName", "FamilyName") if body.get(k)) or ""
    ).strip()
    if not name:
        raise invalid("DisplayName", "Required parameter DisplayName (or GivenName/FamilyName) is missing", "2020")
    others = company.entities["Customer"].named(name) - {(existing or {}).get("Id")}
    if others:
        raise invalid("DisplayName", f"The name supplied already exists. : Id={min(others, key=int)}", "6240")
    parent = reference(company, body, "ParentRef", "Customer") if body.get("ParentRef") else None
    if parent is not None and existing is not None:
        _not_under_itself(company, existing["Id"], parent)
    currency = (body.get("CurrencyRef") or {}).get("value") or (parent or {}).get("CurrencyRef", {}).get("value")
    currency = currency or company.home_currency
    if currency not in CURRENCY_NAMES:
        raise invalid("CurrencyRef", f"CurrencyRef: '{currency}' is not a currency this company uses")
    fields = {k: v for k, v in body.items() if k not in COMPUTED}
    fields.update(
        DisplayName=name,
        Active=body.get("Active", True) is not False,
        CurrencyRef={"value": currency, "name": CURRENCY_NAMES[currency]},
        FullyQualifiedName=f"{parent['FullyQualifiedName']}:{name}" if parent else name,
        Job=parent is not None,
        Balance=Decimal(0),
        BalanceWithJobs=Decimal(0),
    )
    if parent is not None:
        fields.update(
            ParentRef={"value": parent["Id"]},
            Level=int(parent.get("Level", 0)) + 1,
            BillWithParent=bool(body.get("BillWithParent", False)),
        )
    return fields


def sales_lines(company: Company, body: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    """The lines as QuickBooks stores them, the subtotal of the item lines and the discount.

    Item lines are checked (an ``ItemRef`` names an item; ``Amount`` is ``Qty`` ×
    ``UnitPrice`` when both are given), description-only lines carry no amount, a
    discount line takes a fixed ``Amount`` or ``DiscountPercent`` of the subtotal;
    the subtotal line is recomputed and comes after the item lines, the discount
    after it (the order of Intuit's own examples).
    """
    given = body.get("Line")
    if not isinstance(given, list) or not given:
        raise invalid("Line", "Required parameter Line is missing in the request", "2020")
    lines: list[dict[str, Any]] = []
    discounts: list[tuple[int, dict[str, Any]]] = []
    for index, line in enumerate(given):
        kind = line.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue
        if kind == "SalesItemLineDetail":
            number = len(lines) + 1
            lines.append({**line, "Id": str(number), "LineNum": number, "Amount": _item_amount(company, line, index)})
        elif kind == "DescriptionOnly":
            number = len(lines) + 1
            lines.append({**line, "Id": str(number), "LineNum": number, "Amount": Decimal(0)})
        elif kind == "DiscountLineDetail":
            discounts.append((index, line))
        else:
            raise invalid(
                f"Line[{index}].DetailType",
                f"Line[{index}].DetailType '{kind}' is not supported by the sandbox "
                "(SalesItemLineDetail, DescriptionOnly, DiscountLineDetail and SubTotalLineDetail are)",
            )
    subtotal = sum((line["Amount"] for line in lines), Decimal(0))
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    if len(discounts) > 1:
        raise invalid("Line", "An invoice takes one discount line", "6000")
    discount = Decimal(0)
    for index, line in discounts:
        detail = dict(line.get("DiscountLineDetail") or {})
        if detail.get("PercentBased"):
            percent = money(detail.get("DiscountPercent"), f"Line[{index}].DiscountLineDetail.DiscountPercent", None)
            if not 0 <= percent <= 100:
                raise invalid(f"Line[{index}].DiscountLineDetail.DiscountPercent", "A discount is 0 to 100 percent")
            discount = (subtotal * percent / 100).quantize(CENT, ROUND_HALF_UP)
        else:
            discount = money(line.get("Amount"), f"Line[{index}].Amount")
        if not 0 <= discount <= subtotal:
            raise invalid(
                f"Line[{index}].Amount", f"The discount {discount} is more than the subtotal {subtotal}", "6000"
            )
        account = detail.get("DiscountAccountRef") or {"value": DISCOUNTS_GIVEN}
        detail["DiscountAccountRef"] = _as_ref(
            referenced(company, account, f"Line[{index}].DiscountLineDetail", "Account")
        )
        lines.append({**line, "Amount": discount, "DiscountLineDetail": detail})
    return lines, subtotal, discount


def _item_amount(company: Company, line: dict[str, Any], index: int) -> Decimal:
    """A sales item line's amount, its item checked, and Qty × UnitPrice when both are given."""
    detail = line.get("SalesItemLineDetail") or {}
    if detail.get("ItemRef"):
        referenced(company, detail["ItemRef"], f"Line[{index}].SalesItemLineDetail.ItemRef", "Item")
    amount = money(line.get("Amount"), f"Line[{index}].Amount")
    if "Qty" in detail and "UnitPrice" in detail:
        qty = money(detail["Qty"], f"Line[{index}].SalesItemLineDetail.Qty", None)
        price = money(detail["UnitPrice"], f"Line[{index}].SalesItemLineDetail.UnitPrice", None)
        if (qty * price).quantize(CENT, ROUND_HALF_UP) != amount:
            raise invalid(
                f"Line[{index}].Amount",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                "6070",
            )
    return amount


def sales_form(company: Company, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What invoices and credit memos share: customer, dates, currency, lines, total."""
    customer = reference(company, body, "CustomerRef", "Customer")
    lines, subtotal, discount = sales_lines(company, body)
    tax = money((body.get("TxnTaxDetail") or {}).get("TotalTax", 0), "TxnTaxDetail.TotalTax")
    currency = customer["CurrencyRef"]["value"]
    fields = {k: v for k, v in body.items() if k not in COMPUTED}
    fields.update(
        DocNumber=str(body.get("DocNumber") or company.next_doc_number()),
        TxnDate=_date(body.get("TxnDate"), "TxnDate", company.today(now)),
        CurrencyRef=dict(customer["CurrencyRef"]),
        CustomerRef={"value": customer["Id"], "name": customer["FullyQualifiedName"]},
        Line=lines,
        TxnTaxDetail={"TotalTax": tax},
        TotalAmt=subtotal - discount + tax,
    )
    fields.setdefault("PrintStatus", "NotSet")
    fields.setdefault("EmailStatus", "NotSet")
    if "PrimaryEmailAddr" in customer:
        fields.setdefault("BillEmail", dict(customer["PrimaryEmailAddr"]))
    rate = _exchange_rate(company, body, currency)
    fields.pop("ExchangeRate", None)
    if rate is not None:
        total = fields["TotalAmt"]
        fields.update(ExchangeRate=rate, HomeTotalAmt=(total * rate).quantize(CENT, ROUND_HALF_UP))
    return fields


def _exchange_rate(company: Company, body: dict[str, Any], currency: str) -> Decimal | None:
    """A foreign-currency transaction's rate (the body's, else the day's); None at home, whatever the body says.

    Client libraries send defaults (python-quickbooks writes ``"ExchangeRate": 0``);
    a home-currency transaction has no rate to store.
    """
    default = exchange_rate(currency, company.home_currency)
    if default is None:
        return None
    rate = money(body.get("ExchangeRate") or default, "ExchangeRate", places=None)
    if not rate.is_finite() or rate <= 0:
        raise invalid("ExchangeRate", f"ExchangeRate: '{rate}' must be more than zero")
    return rate


def _not_under_itself(company: Company, customer_id: str, parent: dict[str, Any]) -> None:
    """A customer cannot become a job of itself or of one of its own jobs."""
    ancestor: dict[str, Any] | None = parent
    while ancestor is not None:
        if ancestor["Id"] == customer_id:
            raise invalid("ParentRef", f"Customer {customer_id} cannot be a sub-customer of itself", "6000")
        up = ancestor.get("ParentRef")
        ancestor = company.entities["Customer"].get(up["value"]) if up else None


def due_date(company: Company, body: dict[str, Any], customer: dict[str, Any], txn_date: date) -> tuple[Any, date]:
    """The term (body's, else the customer's, else the company's default) and the due date (given, else from it)."""
    term_ref = body.get("SalesTermRef") or customer.get("SalesTermRef") or company.default_terms
    term = reference(company, {"SalesTermRef": term_ref}, "SalesTermRef", "Term") if term_ref else None
    default = txn_date + timedelta(days=int(term.get("DueDays", 0))) if term else txn_date
    return term, _date(body.get("DueDate"), "DueDate", default)


def term_fields(company: Company, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    name = str(body.get("Name") or "").strip()
    if not name:
        raise invalid("Name", "Required parameter Name is missing in the request", "2020")
    others = company.entities["Term"].named(name) - {(existing or {}).get("Id")}
    if others:
        raise invalid("Name", f"The name supplied already exists. : Id={min(others, key=int)}", "6240")
    fields = {k: v for k, v in body.items() if k not in COMPUTED}
    fields.update(
        Name=name,
        Active=body.get("Active", True) is not False,
        Type=body.get("Type", "STANDARD"),
        DueDays=int(body.get("DueDays", 0)),
        DiscountDays=int(body.get("DiscountDays", 0)),
    )
    return fields


def payment_fields(
    company: Company, body: dict[str, Any], existing: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """A payment's lines checked against what they apply to (same customer, no more than is open)."""
    customer = reference(company, body, "CustomerRef", "Customer")
    total = money(body.get("TotalAmt"), "TotalAmt")
    lines, applied = [], Decimal(0)
    for index, line in enumerate(body.get("Line") or []):
        target, txn_type, amount, open_before = _application(company, customer, line, index, existing)
        applied += amount if txn_type == "Invoice" else -amount
        lines.append(payment_line(amount, txn_type, target["Id"], open_before, str(target.get("DocNumber", ""))))
    if applied > total:
        raise invalid("TotalAmt", f"The payment applies {applied} but TotalAmt is {total}", "6000")
    fields = {k: v for k, v in body.items() if k not in COMPUTED}
    fields.update(
        CustomerRef={"value": customer["Id"], "name": customer["FullyQualifiedName"]},
        TotalAmt=total,
        UnappliedAmt=total - applied,
        Line=lines,
        TxnDate=_date(body.get("TxnDate"), "TxnDate", company.today(now)),
        CurrencyRef=dict(customer["CurrencyRef"]),
        ProcessPayment=bool(body.get("ProcessPayment", False)),
    )
    fields.setdefault("DepositToAccountRef", {"value": UNDEPOSITED_FUNDS})
    rate = _exchange_rate(company, body, customer["CurrencyRef"]["value"])
    fields.pop("ExchangeRate", None)
    if rate is not None:
        fields["ExchangeRate"] = rate
    return fields


def _application(
    company: Company, customer: dict[str, Any], line: dict[str, Any], index: int, existing: dict[str, Any] | None
) -> tuple[dict[str, Any], str, Decimal, Decimal]:
    amount = money(line.get("Amount"), f"Line[{index}].Amount")
    links = line.get("LinkedTxn") or []
    if not links:
        raise invalid(f"Line[{index}].LinkedTxn", f"Required parameter Line[{index}].LinkedTxn is missing", "2020")
    txn_type = links[0].get("TxnType")
    if txn_type not in ("Invoice", "CreditMemo"):
        raise invalid(f"Line[{index}].LinkedTxn.TxnType", f"TxnType '{txn_type}' cannot be paid here")
    target = company.entities[txn_type].get(str(links[0].get("TxnId")))
    if target is None:
        raise invalid(
            f"Line[{index}].LinkedTxn.TxnId",
            f"Invalid Reference Id : {txn_type} {links[0].get('TxnId')} does not exist",
            "2500",
        )
    if target["CustomerRef"]["value"] != customer["Id"]:
        raise invalid(
            f"Line[{index}].LinkedTxn.TxnId", f"{txn_type} {target['Id']} belongs to another customer", "6000"
        )
    already = sum(
        (
            old["Amount"]
            for old in (existing or {}).get("Line", [])
            if old["LinkedTxn"][0] == {"TxnId": target["Id"], "TxnType": txn_type}
        ),
        Decimal(0),
    )
    still_open = (target["Balance"] if txn_type == "Invoice" else target["RemainingCredit"]) + already
    if amount > still_open:
        raise invalid(
            f"Line[{index}].Amount",
            f"Line[{index}] applies {amount} to {txn_type} {target['Id']}, which has only {still_open} open",
            "6000",
        )
    return target, txn_type, amount, still_open


def payment_line(amount: Decimal, txn_type: str, txn_id: str, open_before: Decimal, doc_number: str) -> dict[str, Any]:
    """A payment line applying ``amount`` to a transaction; an invoice's carries QuickBooks'
    ``LineEx`` (its Id, what was open on it before, its number)."""
    line: dict[str, Any] = {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}
    if txn_type == "Invoice":
        line["LineEx"] = {
            "any": [
                _name_value("txnId", txn_id),
                _name_value("txnOpenBalance", f"{open_before:.2f}"),
                _name_value("txnReferenceNumber", doc_number),
            ]
        }
    return line


def _name_value(name: str, value: str) -> dict[str, Any]:
    """One entry of the ``LineEx`` wrapper QuickBooks leaks from its JAXB layer."""
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }
