"""Collection case export: hand each overdue customer to the agency once, in one CSV.

The file and the ledger change together. A run writes the CSV under a hidden pending
name, records its cases in the ledger in one transaction, then renames the file into
place. Every run first settles what a crashed run left behind: a pending file whose
cases the ledger holds is renamed into place, any other pending file is deleted. So a
case is recorded if and only if its CSV is (or will be, on the next run) in the folder.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from actions.case_candidates import (
    CASE_COLUMNS,
    AgencyCase,
    CaseCandidate,
    CaseKey,
    CaseValidationError,
    as_case_candidate,
    build_agency_case,
)
from actions.case_ledger import CaseExportLedger
from actions.files import replace_file, write_new_file
from actions.values import Problem, as_utc

_PENDING_GLOB = ".collection_cases_*.csv.pending"


@dataclass(frozen=True)
class CaseRejection:
    """A case that was not exported; it stays a candidate for the next run.

    Attributes:
        key: The case key.
        reason: One line naming the case reference and each field at fault.
        problems: Every field at fault (named as the agency column) and why.
    """

    key: CaseKey
    reason: str
    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        return self.reason

    @property
    def case_reference(self) -> str:
        """The rejected case's reference."""
        return self.key.case_reference


@dataclass
class CaseExportResult:
    """What one run of `export_cases` did."""

    exported: list[AgencyCase] = field(default_factory=list)
    skipped_already_exported: list[CaseKey] = field(default_factory=list)
    rejections: list[CaseRejection] = field(default_factory=list)
    file: Path | None = None
    recovered_files: list[Path] = field(default_factory=list)

    @property
    def exported_count(self) -> int:
        """Cases written to ``file`` and recorded in this run."""
        return len(self.exported)

    @property
    def skipped_already_exported_count(self) -> int:
        """Candidates the ledger already held."""
        return len(self.skipped_already_exported)

    @property
    def rejected_count(self) -> int:
        """Candidates that failed validation."""
        return len(self.rejections)


def export_cases(
    candidates: Iterable[CaseCandidate | Mapping[str, Any]],
    export_dir: Path,
    ledger: CaseExportLedger,
    now: datetime,
) -> CaseExportResult:
    """Write the new, valid cases to one agency CSV and record them, never twice.

    Args:
        candidates: Rows of ``marts.collection_case_candidates``, as candidates or dicts.
        export_dir: The folder the agency collects ``collection_cases_*.csv`` from.
        ledger: The case export ledger.
        now: The run time (timezone-aware); names the file and sets ``exported_at``.

    Returns:
        The exported cases and file (None when nothing valid was new), the skipped keys,
        the rejections, and any file a crashed run left pending and this run completed.

    Raises:
        FileExistsError: If this run's file name is taken (two runs in the same second).
    """
    exported_at = as_utc(now)
    export_dir.mkdir(parents=True, exist_ok=True)
    result = CaseExportResult(recovered_files=_settle_pending(export_dir, ledger))
    rows = [as_case_candidate(row) for row in candidates]
    handled = ledger.already_exported(row.key for row in rows)
    valid: list[AgencyCase] = []
    for candidate in rows:
        if candidate.key in handled:
            result.skipped_already_exported.append(candidate.key)
            continue
        handled.add(candidate.key)  # a duplicate row later in this run is skipped too
        try:
            valid.append(build_agency_case(candidate))
        except CaseValidationError as exc:
            result.rejections.append(CaseRejection(candidate.key, str(exc), exc.problems))
    if valid:
        target = export_dir / f"collection_cases_{exported_at:%Y%m%dT%H%M%SZ}.csv"
        _publish(valid, target, ledger, exported_at)
        result.exported, result.file = valid, target
    return result


def cases_to_csv(cases: Sequence[AgencyCase]) -> bytes:
    """The agency CSV: UTF-8, a header row, one row per case, RFC 4180 line endings."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CASE_COLUMNS)
    writer.writeheader()
    writer.writerows(case.row for case in cases)
    return buffer.getvalue().encode("utf-8")


def _publish(cases: Sequence[AgencyCase], target: Path, ledger: CaseExportLedger, exported_at: datetime) -> None:
    """Write pending file, record cases, rename into place; see the module docstring."""
    if target.exists():
        raise FileExistsError(f"{target} already exists; not overwriting an earlier export")
    pending = _pending_path(target)
    write_new_file(pending, cases_to_csv(cases))
    try:
        ledger.record(cases, target.name, exported_at)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    replace_file(pending, target)


def _settle_pending(export_dir: Path, ledger: CaseExportLedger) -> list[Path]:
    """Finish or discard files a crashed run left pending; return the finished ones."""
    finished = []
    for pending in sorted(export_dir.glob(_PENDING_GLOB)):
        target = pending.with_name(pending.name.removeprefix(".").removesuffix(".pending"))
        if ledger.has_export_file(target.name) and not target.exists():
            replace_file(pending, target)
            finished.append(target)
        else:
            pending.unlink()
    return finished


def _pending_path(target: Path) -> Path:
    """The hidden name a CSV has until its cases are recorded."""
    return target.with_name(f".{target.name}.pending")
