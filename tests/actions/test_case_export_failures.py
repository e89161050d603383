"""export_cases when something fails: the ledger write, or the process itself."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from actions import CaseCandidate, CaseExportLedger, export_cases

REPO_ROOT = Path(__file__).resolve().parents[2]


def _all_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


class _FailingLedger(CaseExportLedger):
    def record(self, cases: Any, export_file: str, exported_at: datetime) -> None:
        raise duckdb.IOException("disk full")


def test_export_cases_leaves_no_file_when_ledger_write_fails(
    tmp_path: Path,
    warehouse: duckdb.DuckDBPyConnection,
    make_case: Callable[..., CaseCandidate],
    run_time: datetime,
) -> None:
    with pytest.raises(duckdb.IOException):
        export_cases([make_case()], tmp_path / "out", _FailingLedger(warehouse), run_time)

    assert _all_files(tmp_path / "out") == []


# Runs export_cases in a child process that dies (os._exit) inside the ledger write,
# before or after the transaction commits: a real crash, no cleanup code runs.
_CRASHING_EXPORT = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path
import duckdb
from actions import CaseExportLedger, export_cases

class CrashingLedger(CaseExportLedger):
    def record(self, cases, export_file, exported_at):
        if sys.argv[3] == "after-commit":
            super().record(cases, export_file, exported_at)
        os._exit(17)

row = dict(realm_id="9341", customer_id="58", customer_name="Amy", currency="USD",
           customer_email="birds@intuit.example", overdue_balance="12.30", invoice_count=1,
           oldest_due_date=datetime(2024, 1, 1).date(), max_days_past_due=92,
           as_of_date=datetime(2024, 4, 2).date())
connection = duckdb.connect(sys.argv[1])
export_cases([row], Path(sys.argv[2]), CrashingLedger(connection),
             datetime(2024, 4, 2, 9, 30, 15, tzinfo=UTC))
"""


def _crash_export(warehouse_path: Path, export_dir: Path, when: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    args = [sys.executable, "-c", _CRASHING_EXPORT, str(warehouse_path), str(export_dir), when]
    completed = subprocess.run(args, env=env, cwd=REPO_ROOT, capture_output=True, check=False)
    assert completed.returncode == 17, completed.stderr.decode()


def test_export_cases_finishes_file_of_run_that_crashed_after_commit(
    tmp_path: Path, warehouse_path: Path, make_case: Callable[..., CaseCandidate]
) -> None:
    export_dir = tmp_path / "out"
    _crash_export(warehouse_path, export_dir, "after-commit")
    visible_after_crash = list(export_dir.glob("collection_cases_*.csv"))

    later = datetime(2024, 4, 3, tzinfo=UTC)
    with duckdb.connect(str(warehouse_path)) as connection:
        rerun = export_cases([make_case()], export_dir, CaseExportLedger(connection), later)

    finished = export_dir / "collection_cases_20240402T093015Z.csv"
    assert visible_after_crash == []
    assert rerun.recovered_files == [finished]
    assert (rerun.file, rerun.skipped_already_exported_count) == (None, 1)
    assert _all_files(export_dir) == [finished.name]
    with finished.open(newline="", encoding="utf-8") as handle:
        assert [row["principal_amount"] for row in csv.DictReader(handle)] == ["12.30"]


def test_export_cases_discards_file_of_run_that_crashed_before_commit(
    tmp_path: Path, warehouse_path: Path, make_case: Callable[..., CaseCandidate]
) -> None:
    export_dir = tmp_path / "out"
    _crash_export(warehouse_path, export_dir, "before-commit")
    left_after_crash = _all_files(export_dir)

    later = datetime(2024, 4, 3, tzinfo=UTC)
    with duckdb.connect(str(warehouse_path)) as connection:
        rerun = export_cases([make_case()], export_dir, CaseExportLedger(connection), later)

    assert left_after_crash and not any(name.startswith("collection_") for name in left_after_crash)
    assert rerun.recovered_files == []
    assert _all_files(export_dir) == ["collection_cases_20240403T000000Z.csv"]
    assert [case.key.customer_id for case in rerun.exported] == ["58"]
