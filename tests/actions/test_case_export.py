"""export_cases: mapping, validation, the CSV and never twice."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from actions import (
    CASE_COLUMNS,
    CaseCandidate,
    CaseExportLedger,
    build_agency_case,
    export_cases,
)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CASE_COLUMNS
        return list(reader)


def _ledger_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return connection.execute("select * from qbcollect_actions.case_export_ledger order by customer_id").fetchall()


def _all_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_build_agency_case_maps_mart_row_to_agency_columns(
    make_case: Callable[..., CaseCandidate],
) -> None:
    case = build_agency_case(make_case())

    assert case.row == {
        "case_reference": "QBC-9341-58",
        "debtor_name": "Amy's Bird Sanctuary",
        "debtor_email": "birds@intuit.example",
        "debtor_phone": "(650) 555-3311",
        "address_line1": "4581 Finch St.",
        "city": "Bayshore",
        "region": "CA",
        "postal_code": "94326",
        "country": "USA",
        "currency": "USD",
        "principal_amount": "1234.50",
        "invoice_count": "2",
        "invoice_numbers": "1021, 1042",
        "oldest_due_date": "2023-12-01",
        "days_past_due": "123",
        "as_of_date": "2024-04-02",
    }
    assert case.principal_amount == Decimal("1234.50")


def test_export_cases_writes_one_csv_with_exact_amounts_and_records_ledger(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    candidates = [
        make_case(),
        make_case(customer_id="59", customer_name="Zoë Müller, \"Ltd\"",
                  overdue_balance=Decimal("1234567.005")),
        make_case(customer_id="60", overdue_balance=Decimal("0.1") + Decimal("0.2")),
    ]  # fmt: skip

    result = export_cases(candidates, tmp_path / "out", CaseExportLedger(warehouse), run_time)

    assert result.file == tmp_path / "out" / "collection_cases_20240402T093015Z.csv"
    assert _all_files(tmp_path / "out") == ["collection_cases_20240402T093015Z.csv"]
    rows = _read_csv(result.file)
    assert [row["principal_amount"] for row in rows] == ["1234.50", "1234567.01", "0.30"]
    assert rows[1]["debtor_name"] == 'Zoë Müller, "Ltd"'
    assert [row["case_reference"] for row in rows] == ["QBC-9341-58", "QBC-9341-59", "QBC-9341-60"]
    assert (result.exported_count, result.skipped_already_exported_count, result.rejected_count) == (3, 0, 0)
    assert _ledger_rows(warehouse)[0] == (
        "9341", "58", "QBC-9341-58", Decimal("1234.50"), "USD",
        "collection_cases_20240402T093015Z.csv", run_time,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_name": "  "}, "debtor_name"),
        ({"customer_name": None}, "debtor_name"),
        ({"overdue_balance": Decimal("0")}, "principal_amount"),
        ({"overdue_balance": Decimal("-10.00")}, "principal_amount"),
        ({"overdue_balance": 10.5}, "principal_amount"),
        ({"currency": "US"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"customer_email": "birds(at)intuit"}, "debtor_email"),
        ({"customer_email": None, "bill_postal_code": ""}, "debtor_email"),
        ({"invoice_count": 0}, "invoice_count"),
    ],
)
def test_export_cases_rejects_invalid_row_naming_case_reference_and_field(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
    changes: dict[str, Any],
    field: str,
) -> None:
    candidates = [make_case(customer_id="61", **changes), make_case()]

    result = export_cases(candidates, tmp_path / "out", CaseExportLedger(warehouse), run_time)

    [rejection] = result.rejections
    assert rejection.case_reference == "QBC-9341-61"
    assert [problem.field for problem in rejection.problems] == [field]
    assert str(rejection) == rejection.reason
    assert rejection.reason.startswith(f"case QBC-9341-61: {field} ")
    assert result.file is not None
    assert [row["case_reference"] for row in _read_csv(result.file)] == ["QBC-9341-58"]
    assert [row[1] for row in _ledger_rows(warehouse)] == ["58"]


def test_export_cases_unreachable_debtor_reason_names_missing_address_fields(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    unreachable = make_case(customer_email="", bill_line1=None, bill_city=" ")

    result = export_cases([unreachable], tmp_path / "out", CaseExportLedger(warehouse), run_time)

    assert "address_line1, city" in result.rejections[0].reason
    assert "postal_code" not in result.rejections[0].reason


def test_export_cases_accepts_postal_address_without_email(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    result = export_cases([make_case(customer_email=None)], tmp_path / "out", CaseExportLedger(warehouse), run_time)

    assert result.file is not None
    assert _read_csv(result.file)[0]["debtor_email"] == ""


def test_export_cases_never_exports_a_customer_twice(
    tmp_path: Path,
    warehouse_path: Path,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    candidates = [make_case(), make_case(customer_id="59")]
    with duckdb.connect(str(warehouse_path)) as connection:
        export_cases(candidates, tmp_path / "out", CaseExportLedger(connection), run_time)
        before = _ledger_rows(connection)

    later = datetime(2024, 4, 3, tzinfo=UTC)
    with duckdb.connect(str(warehouse_path)) as connection:
        rerun = export_cases(candidates, tmp_path / "out", CaseExportLedger(connection), later)
        after = _ledger_rows(connection)

    assert rerun.file is None
    assert rerun.skipped_already_exported_count == 2
    assert _all_files(tmp_path / "out") == ["collection_cases_20240402T093015Z.csv"]
    assert after == before


def test_export_cases_exports_only_new_customers_on_rerun(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    ledger = CaseExportLedger(warehouse)
    export_cases([make_case()], tmp_path / "out", ledger, run_time)

    later = datetime(2024, 4, 3, tzinfo=UTC)
    rerun = export_cases([make_case(), make_case(customer_id="59")], tmp_path / "out", ledger, later)

    assert rerun.file is not None
    assert [row["case_reference"] for row in _read_csv(rerun.file)] == ["QBC-9341-59"]


def test_export_cases_writes_no_csv_when_nothing_valid(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    result = export_cases([make_case(customer_name="")], tmp_path / "out", CaseExportLedger(warehouse), run_time)

    assert (result.file, result.exported_count, result.rejected_count) == (None, 0, 1)
    assert _all_files(tmp_path / "out") == []
    assert _ledger_rows(warehouse) == []


def test_export_cases_refuses_to_overwrite_an_earlier_export(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    ledger = CaseExportLedger(warehouse)
    first = export_cases([make_case()], tmp_path / "out", ledger, run_time)
    assert first.file is not None
    content = first.file.read_bytes()

    with pytest.raises(FileExistsError):
        export_cases([make_case(customer_id="59")], tmp_path / "out", ledger, run_time)

    assert first.file.read_bytes() == content
    assert [row[1] for row in _ledger_rows(warehouse)] == ["58"]
