"""Constants of the QuickBooks source: entities, keys, paging and the raw contract."""

from __future__ import annotations

from dlt.common.schema.typing import TColumnSchema

PRODUCTION_API_BASE_URL = "https://quickbooks.api.intuit.com"
PRODUCTION_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"

MINOR_VERSION = "75"
PAGE_SIZE = 1000  # QuickBooks' MAXRESULTS ceiling
CURSOR_FIELD = "MetaData.LastUpdatedTime"
PRIMARY_KEY = ("realm_id", "Id")
#: The same key as warehouse columns: every entity row merges on it, and it is never null.
KEY_COLUMNS = ("realm_id", "id")
DATASET_NAME = "raw_quickbooks"
PIPELINE_NAME = "quickbooks"

#: resource (table) name -> QuickBooks entity name
RESOURCES: dict[str, str] = {
    "customers": "Customer",
    "invoices": "Invoice",
    "payments": "Payment",
    "credit_memos": "CreditMemo",
    "terms": "Term",
}

#: Name lists hide inactive rows unless the query asks for ``Active IN (true,false)``.
NAME_LISTS = frozenset({"Customer", "Term"})


def where(entity: str, *conditions: str) -> str:
    """A query's ``WHERE`` clause (or nothing); a name list's always takes its inactive rows too."""
    parts = [*conditions, *(["Active IN (true, false)"] if entity in NAME_LISTS else [])]
    return f" WHERE {' AND '.join(parts)}" if parts else ""


#: Per realm, read once a day at most: what the marts need to know of each company.
COMPANY_TABLES: dict[str, str] = {"company_info": "CompanyInfo", "preferences": "Preferences"}

#: Money fields an object of the table must carry; without one it is rejected, not loaded.
REQUIRED_MONEY: dict[str, tuple[str, ...]] = {
    "customers": ("Balance",),
    "invoices": ("TotalAmt", "Balance"),
    "payments": ("TotalAmt", "UnappliedAmt"),
    "credit_memos": ("TotalAmt", "RemainingCredit"),
}

#: Transactions QuickBooks voids in place; their rows carry ``is_voided``.
VOIDABLE = frozenset({"invoices", "payments", "credit_memos"})

#: How far back QuickBooks' change data capture reaches, and how many objects it answers.
CDC_WINDOW_DAYS = 30
CDC_CAP = 1000

#: JSON fields holding money or rates. QuickBooks writes ``0`` for zero and ``81.0``
#: otherwise; all of them load as DECIMAL, never float.
MONEY_FIELDS = frozenset(
    {
        "Amount",
        "Balance",
        "BalanceWithJobs",
        "TotalAmt",
        "HomeTotalAmt",
        "HomeBalance",
        "UnappliedAmt",
        "RemainingCredit",
        "ExchangeRate",
        "UnitPrice",
        "TotalTax",
        "Deposit",
        "CreditLimit",
        "DiscountPercent",
        "DiscountAmt",
        "OpenBalance",
        "TaxPercent",
        "NetAmountTaxable",
    }
)

#: Every money column: DECIMAL(MONEY_PRECISION, MONEY_SCALE) in the warehouse and in Arrow.
MONEY_PRECISION, MONEY_SCALE = 38, 9

_TYPES: dict[str, TColumnSchema] = {
    "money": {"data_type": "decimal", "precision": MONEY_PRECISION, "scale": MONEY_SCALE},
    "text": {"data_type": "text"},
    "bool": {"data_type": "bool"},
    "bigint": {"data_type": "bigint"},
    "timestamp": {"data_type": "timestamp", "timezone": True},
}
_MONEY, _TEXT, _BOOL, _BIGINT, _TIMESTAMP = "money", "text", "bool", "bigint", "timestamp"


def column_hints(columns: dict[str, str], required: tuple[str, ...] = ()) -> dict[str, TColumnSchema]:
    """Fresh dlt column hints (dlt writes into hint dicts, so they must not be shared)."""
    hints: dict[str, TColumnSchema] = {}
    for name, kind in columns.items():
        hint: TColumnSchema = {"name": name, **_TYPES[kind], "nullable": name not in required}
        hints[name] = hint
    return hints


_COMMON = {
    "realm_id": _TEXT,
    "id": _TEXT,
    "sync_token": _TEXT,
    "meta_data__create_time": _TIMESTAMP,
    "meta_data__last_updated_time": _TIMESTAMP,
    "record_version": _BIGINT,
    "is_deleted": _BOOL,
    "deleted_at": _TIMESTAMP,
}
_TRANSACTION = {
    "txn_date": _TEXT,
    "customer_ref__value": _TEXT,
    "customer_ref__name": _TEXT,
    "currency_ref__value": _TEXT,
    "exchange_rate": _MONEY,
    "total_amt": _MONEY,
    "private_note": _TEXT,
    "is_voided": _BOOL,
}
_SALES_FORM = {
    **_TRANSACTION,
    "doc_number": _TEXT,
    "balance": _MONEY,
    "bill_email__address": _TEXT,
    "email_status": _TEXT,
    "print_status": _TEXT,
}

#: Columns every load guarantees, so dbt's staging models can rely on them even when
#: no row has had a value yet (a company with no sub-customers has no ``parent_ref``).
COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        **_COMMON,
        "display_name": _TEXT,
        "fully_qualified_name": _TEXT,
        "company_name": _TEXT,
        "given_name": _TEXT,
        "family_name": _TEXT,
        "active": _BOOL,
        "job": _BOOL,
        "bill_with_parent": _BOOL,
        "parent_ref__value": _TEXT,
        "level": _BIGINT,
        "balance": _MONEY,
        "balance_with_jobs": _MONEY,
        "currency_ref__value": _TEXT,
        "currency_ref__name": _TEXT,
        "primary_email_addr__address": _TEXT,
        "primary_phone__free_form_number": _TEXT,
        "bill_addr__line1": _TEXT,
        "bill_addr__line2": _TEXT,
        "bill_addr__city": _TEXT,
        "bill_addr__country_sub_division_code": _TEXT,
        "bill_addr__postal_code": _TEXT,
        "bill_addr__country": _TEXT,
        "sales_term_ref__value": _TEXT,
        "preferred_delivery_method": _TEXT,
    },
    "invoices": {
        **_COMMON,
        **_SALES_FORM,
        "due_date": _TEXT,
        "sales_term_ref__value": _TEXT,
        "home_total_amt": _MONEY,
        "home_balance": _MONEY,
    },
    "payments": {
        **_COMMON,
        **_TRANSACTION,
        "unapplied_amt": _MONEY,
        "payment_ref_num": _TEXT,
    },
    "credit_memos": {**_COMMON, **_SALES_FORM, "remaining_credit": _MONEY},
    "terms": {
        **_COMMON,
        "name": _TEXT,
        "active": _BOOL,
        "type": _TEXT,
        "due_days": _BIGINT,
        "discount_days": _BIGINT,
        "discount_percent": _MONEY,
        "day_of_month_due": _BIGINT,
    },
    "company_info": {
        "realm_id": _TEXT,
        "id": _TEXT,
        "company_name": _TEXT,
        "legal_name": _TEXT,
        "country": _TEXT,
        "company_addr__country": _TEXT,
        "default_time_zone": _TEXT,
        "fiscal_year_start_month": _TEXT,
        "meta_data__last_updated_time": _TIMESTAMP,
        "read_at": _TIMESTAMP,
    },
    "preferences": {
        "realm_id": _TEXT,
        "currency_prefs__home_currency__value": _TEXT,
        "currency_prefs__multi_currency_enabled": _BOOL,
        "sales_forms_prefs__default_terms__value": _TEXT,
        "report_prefs__calc_aging_report_from_txn_date": _BOOL,
        "report_prefs__report_basis": _TEXT,
        "meta_data__last_updated_time": _TIMESTAMP,
        "read_at": _TIMESTAMP,
    },
}

#: Objects that were not loaded, one row per (realm, entity, Id); open until a good version loads.
REJECTED_ROWS: dict[str, str] = {
    "realm_id": _TEXT,
    "entity": _TEXT,
    "id": _TEXT,
    "field": _TEXT,
    "reason": _TEXT,
    "rejected_at": _TIMESTAMP,
    "is_open": _BOOL,
    "resolved_at": _TIMESTAMP,
}

#: One row per realm per sync: what was read, what it cost, how it ended.
SYNC_LOG: dict[str, str] = {
    "realm_id": _TEXT,
    "started_at": _TIMESTAMP,
    "finished_at": _TIMESTAMP,
    "mode": _TEXT,
    "outcome": _TEXT,
    "error": _TEXT,
    "rows": _BIGINT,
    "deletes": _BIGINT,
    "rejected": _BIGINT,
    "rows_by_entity": _TEXT,
    "deletes_by_entity": _TEXT,
    "requests": _BIGINT,
    "retries": _BIGINT,
    "throttled": _BIGINT,
}

#: One row per realm, entity and check: QuickBooks' count against the warehouse's.
RECONCILIATIONS: dict[str, str] = {
    "realm_id": _TEXT,
    "entity": _TEXT,
    "checked_at": _TIMESTAMP,
    "reason": _TEXT,
    "quickbooks_count": _BIGINT,
    "warehouse_count": _BIGINT,
    "warehouse_count_after": _BIGINT,
    "marked_deleted": _BIGINT,
    "outcome": _TEXT,
}

_LINE = {
    "id": _TEXT,
    "line_num": _BIGINT,
    "description": _TEXT,
    "amount": _MONEY,
    "detail_type": _TEXT,
    "sales_item_line_detail__item_ref__value": _TEXT,
    "sales_item_line_detail__item_ref__name": _TEXT,
    "sales_item_line_detail__unit_price": _MONEY,
    "sales_item_line_detail__qty": _MONEY,
}
_LINK = {"txn_id": _TEXT, "txn_type": _TEXT}

#: Child tables (dlt nests lists): path below the root -> guaranteed columns.
NESTED_COLUMNS: dict[str, dict[tuple[str, ...], dict[str, str]]] = {
    "invoices": {("line",): _LINE, ("linked_txn",): _LINK},
    "payments": {("line",): {"amount": _MONEY}, ("line", "linked_txn"): _LINK},
    "credit_memos": {("line",): _LINE},
}

_SQL_TYPES = {
    "money": f"DECIMAL({MONEY_PRECISION},{MONEY_SCALE})",
    "text": "VARCHAR",
    "bool": "BOOLEAN",
    "bigint": "BIGINT",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
}
_DLT_ROOT = {"_dlt_load_id": "text", "_dlt_id": "text"}
_DLT_NESTED = {"_dlt_root_id": "text", "_dlt_parent_id": "text", "_dlt_list_idx": "bigint", "_dlt_id": "text"}


def child_table_name(table: str, path: tuple[str, ...]) -> str:
    """The child table of a list at ``path`` below ``table``: ``invoices`` and ``("line",)`` make ``invoices__line``."""
    return "__".join((table, *path))


def contract_tables() -> dict[str, dict[str, str]]:
    """Every raw table dbt reads, with its columns as SQL types (dlt's own columns included)."""
    tables: dict[str, dict[str, str]] = {}
    for table, columns in {**COLUMNS, "rejected_rows": REJECTED_ROWS}.items():
        tables[table] = {name: _SQL_TYPES[kind] for name, kind in {**columns, **_DLT_ROOT}.items()}
        for path, nested in NESTED_COLUMNS.get(table, {}).items():
            name = child_table_name(table, path)
            tables[name] = {col: _SQL_TYPES[kind] for col, kind in {**nested, **_DLT_NESTED}.items()}
    return tables
