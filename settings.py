"""Every setting qbcollect reads, with its default, in one place.

Values are read from the environment when a command or a run starts, never at
import. Relative paths are relative to the project root (this folder), so the
CLI, Dagster and dbt (which runs inside ``dbt_project/``) agree on every file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("QBCOLLECT_ENV_FILE", ".env", "File of settings loaded at start; the real environment wins over it."),
    Setting("QUICKBOOKS_CLIENT_ID", "", "OAuth client id of your Intuit app."),
    Setting("QUICKBOOKS_CLIENT_SECRET", "", "OAuth client secret of your Intuit app.", secret=True),
    Setting("QUICKBOOKS_REALM_ID", "", "Company (realm) id; several may be given, comma-separated."),
    Setting(
        "QUICKBOOKS_REFRESH_TOKEN",
        "",
        "First refresh token of the company (comma-separated, one per realm). Rotated tokens are "
        "then kept in the token store; set a new one here to reconnect.",
        secret=True,
    ),
    Setting(
        "QUICKBOOKS_API_BASE_URL",
        "https://quickbooks.api.intuit.com",
        "Accounting API host; the sandbox's URL for local runs.",
    ),
    Setting(
        "QUICKBOOKS_TOKEN_URL",
        "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "OAuth token endpoint; the sandbox's for local runs.",
    ),
    Setting(
        "QUICKBOOKS_AUTHORIZE_URL",
        "https://appcenter.intuit.com/connect/oauth2",
        "OAuth consent page `qbcollect connect` opens; the sandbox's for local runs.",
    ),
    Setting(
        "QUICKBOOKS_REDIRECT_URI",
        "http://localhost:8766/callback",
        "Where the consent page sends the browser back; register it with your Intuit app.",
    ),
    Setting("QBCOLLECT_WAREHOUSE", "data/warehouse.duckdb", "The DuckDB warehouse file (dlt, dbt and Dagster)."),
    Setting("QBCOLLECT_TOKEN_STORE", "data/quickbooks_tokens.enc", "Encrypted file of rotated refresh tokens."),
    Setting(
        "QUICKBOOKS_TOKEN_ENCRYPTION_KEY",
        "",
        "Key of the token store: a Fernet key or a passphrase of 16+ characters; empty derives one from the "
        "client secret.",
        secret=True,
    ),
    Setting("QBCOLLECT_TOKEN_KEY", "", "Older name of QUICKBOOKS_TOKEN_ENCRYPTION_KEY, still read.", secret=True),
    Setting("QBCOLLECT_DLT_DIR", "data/dlt", "dlt's working folder (pipeline state, load packages)."),
    Setting("QBCOLLECT_OUTBOX_DIR", "data/outbox", "Where reminder emails are written as .eml files."),
    Setting("QBCOLLECT_EXPORT_DIR", "data/exports", "Where collection-case CSV files are written."),
    Setting(
        "QBCOLLECT_CASE_NOTICE_DAYS", "7", "Days a final notice gives the customer before the case goes to the agency."
    ),
    Setting(
        "QBCOLLECT_COMPANY_TIMEZONE",
        "America/Los_Angeles",
        'The company\'s time zone: "overdue" is decided on its local date (read by dbt).',
    ),
    Setting("QBCOLLECT_REMINDER_SENDER", "Collections <collections@example.com>", "From address of reminders."),
    Setting("QBCOLLECT_SMTP_HOST", "", "SMTP server for reminders; empty writes .eml files to the outbox."),
    Setting("QBCOLLECT_SMTP_PORT", "25", "SMTP port."),
    Setting("QBCOLLECT_SMTP_USERNAME", "", "SMTP user, if the server needs one."),
    Setting("QBCOLLECT_SMTP_PASSWORD", "", "SMTP password.", secret=True),
    Setting("QBCOLLECT_SMTP_STARTTLS", "false", "Use STARTTLS with the SMTP server (true/false)."),
)
_DEFAULTS = {setting.name: setting.default for setting in SETTINGS}


def get(name: str, env: Mapping[str, str] | None = None) -> str:
    """A setting's value from the environment, or its default."""
    source = os.environ if env is None else env
    value = source.get(name, "").strip()
    return value or _DEFAULTS[name]


def path(name: str, env: Mapping[str, str] | None = None) -> Path:
    """A path setting, made absolute against the project root."""
    value = Path(get(name, env)).expanduser()
    return value if value.is_absolute() else PROJECT_ROOT / value


def csv_list(name: str, env: Mapping[str, str] | None = None) -> list[str]:
    return [part.strip() for part in get(name, env).split(",") if part.strip()]


def load_dotenv_file() -> None:
    """Load the settings file (``.env``) if it exists, without overriding the real environment."""
    from dotenv import load_dotenv

    load_dotenv(path("QBCOLLECT_ENV_FILE"), override=False)


def markdown_table() -> str:
    """The README's table of settings (a test keeps the README equal to it)."""
    rows = ["| Setting | Default | What it is |", "|---|---|---|"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else "—"
        secret = " **Secret.**" if setting.secret else ""
        rows.append(f"| `{setting.name}` | {default} | {setting.description}{secret} |")
    return "\n".join(rows) + "\n"


def env_example() -> str:
    """The text of ``.env.example`` (a test keeps the file equal to it)."""
    lines = [
        "# Every setting qbcollect reads, with safe local values. Copy to .env (gitignored).",
        "# `qbcollect sandbox serve` prints QUICKBOOKS_* values for the local sandbox.",
        "",
    ]
    for setting in SETTINGS:
        if setting.name != "QBCOLLECT_ENV_FILE":  # names this very file
            lines += [f"# {setting.description}", f"{setting.name}={setting.default}"]
    return "\n".join(lines) + "\n"
