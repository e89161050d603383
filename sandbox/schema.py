"""What a write body may hold, property by property, checked the way QuickBooks' JSON layer checks it.

QuickBooks deserialises a body into its schema classes (Jackson): a property the
class does not have, or a value that cannot become the property's type, is fault
2010 "Request has invalid or unsupported property", its Detail carrying the
deserialiser's words (python-quickbooks issues #38 and #80 quote real ones:
``Property Name:Unrecognized field "PurchaseTaxInclusive" (class
com.intuit.schema.finance.v3.Item), not marked as ignorable ...``). Like Jackson
it coerces what it can: a number where a string belongs, a numeric string where
a number belongs, ``"true"`` for a boolean; an empty string is no value at all
(clients send their defaults: python-quickbooks writes ``"TxnDate": ""``,
``"Title": ""``), so it is dropped, never stored back.

:func:`clean` checks a body against its entity's schema and returns it without
the empty values; values keep their JSON form (the builders turn amounts into
Decimal).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.faults import QboFault

#: Leaf kinds: text, a decimal number, a whole number, true/false, a YYYY-MM-DD date, anything.
STR, NUM, INT, BOOL, DATE, ANY = "String", "BigDecimal", "Integer", "Boolean", "Date", "any"

Schema = dict[str, Any]


class ListOf:
    """A JSON list whose items follow ``schema`` (a dict of properties, or a leaf kind)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema


REF: Schema = {"value": STR, "name": STR, "type": STR}
ADDRESS: Schema = {
    key: STR
    for key in (
        "Id",
        "Line1",
        "Line2",
        "Line3",
        "Line4",
        "Line5",
        "City",
        "Country",
        "CountryCode",
        "CountrySubDivisionCode",
        "County",
        "PostalCode",
        "PostalCodeSuffix",
        "Lat",
        "Long",
        "Note",
    )
}
EMAIL: Schema = {"Address": STR}
PHONE: Schema = {"FreeFormNumber": STR}
WEB: Schema = {"URI": STR}
META: Schema = {"CreateTime": STR, "LastUpdatedTime": STR, "LastModifiedByRef": REF}
MEMO: Schema = {"value": STR}
LINKED_TXN: Schema = {"TxnId": STR, "TxnType": STR, "TxnLineId": STR}
CUSTOM_FIELD: Schema = {
    "DefinitionId": STR,
    "Name": STR,
    "Type": STR,
    "StringValue": STR,
    "BooleanValue": BOOL,
    "DateValue": DATE,
    "NumberValue": NUM,
}
TAX_DETAIL: Schema = {"TotalTax": NUM, "TxnTaxCodeRef": REF, "TaxLine": ListOf(ANY), "UseAutomatedSalesTax": BOOL}
DELIVERY_INFO: Schema = {"DeliveryType": STR, "DeliveryTime": STR}

#: What every entity has; QuickBooks owns most of it (see ``builders.COMPUTED``).
_IDENTITY: Schema = {"Id": STR, "SyncToken": STR, "sparse": BOOL, "domain": STR, "MetaData": META, "status": STR}

SALES_LINE: Schema = {
    "Id": STR,
    "LineNum": INT,
    "Description": STR,
    "Amount": NUM,
    "DetailType": STR,
    "LinkedTxn": ListOf(LINKED_TXN),
    "CustomField": ListOf(CUSTOM_FIELD),
    "SalesItemLineDetail": {
        "ItemRef": REF,
        "ClassRef": REF,
        "UnitPrice": NUM,
        "RatePercent": NUM,
        "PriceLevelRef": REF,
        "MarkupInfo": ANY,
        "Qty": NUM,
        "UOMRef": REF,
        "ItemAccountRef": REF,
        "TaxCodeRef": REF,
        "TaxClassificationRef": REF,
        "ServiceDate": DATE,
        "TaxInclusiveAmt": NUM,
        "DiscountRate": NUM,
        "DiscountAmt": NUM,
    },
    "SubTotalLineDetail": {"ItemRef": REF, "ServiceDate": DATE},
    "DiscountLineDetail": {
        "PercentBased": BOOL,
        "DiscountPercent": NUM,
        "DiscountAccountRef": REF,
        "DiscountRef": REF,
        "ClassRef": REF,
        "TaxCodeRef": REF,
        "ServiceDate": DATE,
        "Discount": ANY,
    },
    "DescriptionLineDetail": {"ServiceDate": DATE, "TaxCodeRef": REF},
    "GroupLineDetail": ANY,
}

_SALES_FORM: Schema = {
    **_IDENTITY,
    "DocNumber": STR,
    "TxnDate": DATE,
    "PrivateNote": STR,
    "CustomerRef": REF,
    "CurrencyRef": REF,
    "ExchangeRate": NUM,
    "CustomerMemo": MEMO,
    "BillAddr": ADDRESS,
    "ShipAddr": ADDRESS,
    "ShipFromAddr": ADDRESS,
    "BillEmail": EMAIL,
    "BillEmailCc": EMAIL,
    "BillEmailBcc": EMAIL,
    "FreeFormAddress": BOOL,
    "ClassRef": REF,
    "DepartmentRef": REF,
    "SalesTermRef": REF,
    "ProjectRef": REF,
    "TxnTaxDetail": TAX_DETAIL,
    "TaxExemptionRef": REF,
    "ApplyTaxAfterDiscount": BOOL,
    "GlobalTaxCalculation": STR,
    "TransactionLocationType": STR,
    "PrintStatus": STR,
    "EmailStatus": STR,
    "DeliveryInfo": DELIVERY_INFO,
    "CustomField": ListOf(CUSTOM_FIELD),
    "Line": ListOf(SALES_LINE),
    "LinkedTxn": ListOf(LINKED_TXN),
    "TxnSource": STR,
    "RecurDataRef": REF,
    # QuickBooks computes these; a client may send them back (python-quickbooks does) and they are ignored.
    "TotalAmt": ANY,
    "HomeTotalAmt": ANY,
    "Balance": ANY,
    "HomeBalance": ANY,
}

SCHEMAS: dict[str, Schema] = {
    "Customer": {
        **_IDENTITY,
        **dict.fromkeys(
            (
                "Title",
                "GivenName",
                "MiddleName",
                "FamilyName",
                "Suffix",
                "CompanyName",
                "DisplayName",
                "PrintOnCheckName",
                "Notes",
                "PreferredDeliveryMethod",
                "ResaleNum",
                "PrimaryTaxIdentifier",
                "SecondaryTaxIdentifier",
                "BusinessNumber",
                "GSTIN",
                "GSTRegistrationType",
                "TaxExemptionReasonId",
                "Source",
            ),
            STR,
        ),
        **dict.fromkeys(("Active", "IsProject", "Job", "BillWithParent", "Taxable"), BOOL),
        "Level": INT,
        "OpenBalanceDate": DATE,
        "BillAddr": ADDRESS,
        "ShipAddr": ADDRESS,
        **dict.fromkeys(("PrimaryPhone", "AlternatePhone", "Mobile", "Fax"), PHONE),
        "PrimaryEmailAddr": EMAIL,
        "WebAddr": WEB,
        **dict.fromkeys(
            (
                "DefaultTaxCodeRef",
                "SalesTermRef",
                "PaymentMethodRef",
                "ParentRef",
                "ARAccountRef",
                "CurrencyRef",
                "CustomerTypeRef",
            ),
            REF,
        ),
        **dict.fromkeys(("FullyQualifiedName", "Balance", "BalanceWithJobs"), ANY),
    },
    "Term": {
        **_IDENTITY,
        "Name": STR,
        "Active": BOOL,
        "Type": STR,
        "DiscountPercent": NUM,
        **dict.fromkeys(("DueDays", "DiscountDays", "DayOfMonthDue", "DueNextMonthDays", "DiscountDayOfMonth"), INT),
    },
    "Invoice": {
        **_SALES_FORM,
        "DueDate": DATE,
        "ShipDate": DATE,
        "TrackingNum": STR,
        "ShipMethodRef": REF,
        "DepositToAccountRef": REF,
        "Deposit": NUM,
        **dict.fromkeys(
            ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"), BOOL
        ),
        "EInvoiceStatus": STR,
        "InvoiceLink": ANY,
    },
    "CreditMemo": {
        **_SALES_FORM,
        "PaymentMethodRef": REF,
        "DepositToAccountRef": REF,
        "RemainingCredit": ANY,
    },
    "Payment": {
        **_IDENTITY,
        "PaymentRefNum": STR,
        "TotalAmt": NUM,
        "ExchangeRate": NUM,
        "TxnDate": DATE,
        "TxnSource": STR,
        "PrivateNote": STR,
        "TxnStatus": STR,
        "ProcessPayment": BOOL,
        "CreditCardPayment": ANY,
        "TransactionLocationType": STR,
        **dict.fromkeys(
            (
                "ARAccountRef",
                "CustomerRef",
                "CurrencyRef",
                "PaymentMethodRef",
                "DepositToAccountRef",
                "TaxExemptionRef",
                "ProjectRef",
            ),
            REF,
        ),
        "Line": ListOf({"Amount": NUM, "LinkedTxn": ListOf(LINKED_TXN), "LineEx": ANY}),
        "LinkedTxn": ListOf(LINKED_TXN),
        "UnappliedAmt": ANY,
    },
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def unsupported(path: str, words: str) -> QboFault:
    """Fault 2010 as QuickBooks words it: the deserialiser's message inside its own frame."""
    return QboFault(
        400,
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{words} specified is unsupported or invalid",
        element=path,
    )


def clean(entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` checked against ``entity``'s schema, empty strings (and nulls) dropped.

    Raises:
        QboFault: 2010 naming the first property that is unknown or of the wrong type.
    """
    return _object(body, SCHEMAS[entity], "", f"com.intuit.schema.finance.v3.{entity}")


def _object(value: Any, schema: Schema, path: str, java_class: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise unsupported(path, f"Can not deserialize instance of {java_class} out of {_token(value)} token")
    out: dict[str, Any] = {}
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key not in schema:
            raise unsupported(where, f'Unrecognized field "{key}" (class {java_class}), not marked as ignorable')
        if item is None or item == "":
            continue  # no value: a client's default, not something to store
        out[key] = _value(item, schema[key], where, key)
    return out


def _value(item: Any, kind: Any, path: str, key: str) -> Any:
    if isinstance(kind, dict):
        return _object(item, kind, path, f"com.intuit.schema.finance.v3.{key}")
    if isinstance(kind, ListOf):
        if not isinstance(item, list):
            raise unsupported(path, f"Can not deserialize instance of java.util.ArrayList out of {_token(item)} token")
        return [_value(element, kind.schema, f"{path}[{index}]", key) for index, element in enumerate(item)]
    if kind == ANY:
        return item
    if isinstance(item, (dict, list)):
        raise unsupported(path, f"Can not deserialize instance of java.lang.{kind} out of {_token(item)} token")
    if kind == STR:
        return item if isinstance(item, str) else _text(item)
    if kind == BOOL:
        if isinstance(item, bool):
            return item
        if isinstance(item, str) and item.lower() in ("true", "false"):
            return item.lower() == "true"
        raise unsupported(path, f"Can not construct instance of java.lang.Boolean from {_shown(item)}")
    if kind == DATE:
        if isinstance(item, str) and _DATE.match(item):
            return item[:10]
        raise unsupported(path, f"Can not construct instance of java.util.Date from {_shown(item)}")
    if isinstance(item, bool):
        raise unsupported(path, f"Can not construct instance of java.math.{kind} from {_shown(item)}")
    try:
        number = Decimal(str(item))
    except InvalidOperation:
        raise unsupported(path, f"Can not construct instance of java.math.{kind} from {_shown(item)}") from None
    if not number.is_finite() or (kind == INT and number != number.to_integral_value()):
        raise unsupported(path, f"Can not construct instance of java.math.{kind} from {_shown(item)}")
    if isinstance(item, (int, float)):
        return item
    return int(number) if kind == INT else number  # a numeric string, as the number it spells


def _text(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _token(value: Any) -> str:
    return "START_OBJECT" if isinstance(value, dict) else "START_ARRAY" if isinstance(value, list) else "VALUE"


def _shown(item: Any) -> str:
    return f"String value '{item}'" if isinstance(item, str) else f"{type(item).__name__} value {item!r}"
