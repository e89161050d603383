"""Pure logic of qbcollect's downstream steps: dunning reminders and collection case export.

No Dagster here; the assets in ``assets/`` call these functions with their resources.
"""

from actions.case_candidates import (
    CASE_COLUMNS,
    AgencyCase,
    CaseCandidate,
    CaseKey,
    CaseValidationError,
    build_agency_case,
)
from actions.case_export import CaseExportResult, CaseRejection, cases_to_csv, export_cases
from actions.case_ledger import CaseExportLedger
from actions.outbox import DeliveryError, EmlDirectoryOutbox, Outbox, SmtpOutbox
from actions.reminder_candidates import (
    DUNNING_STAGES,
    ReminderCandidate,
    ReminderKey,
    ReminderValidationError,
    validate_reminder_candidate,
)
from actions.reminder_email import ReminderComposer
from actions.reminder_ledger import ReminderLedger, SentReminder
from actions.reminders import ReminderFailure, ReminderRunResult, send_reminders
from actions.values import Problem, format_amount, format_plain_amount

__all__ = [
    "CASE_COLUMNS",
    "DUNNING_STAGES",
    "AgencyCase",
    "CaseCandidate",
    "CaseExportLedger",
    "CaseExportResult",
    "CaseKey",
    "CaseRejection",
    "CaseValidationError",
    "DeliveryError",
    "EmlDirectoryOutbox",
    "Outbox",
    "Problem",
    "ReminderCandidate",
    "ReminderComposer",
    "ReminderFailure",
    "ReminderKey",
    "ReminderLedger",
    "ReminderRunResult",
    "ReminderValidationError",
    "SentReminder",
    "SmtpOutbox",
    "build_agency_case",
    "cases_to_csv",
    "export_cases",
    "format_amount",
    "format_plain_amount",
    "send_reminders",
    "validate_reminder_candidate",
]
