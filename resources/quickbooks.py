"""QuickBooks credentials and endpoints, from the ``QUICKBOOKS_*`` settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import settings
from pipelines.quickbooks.connection import QuickBooksConfig
from pipelines.quickbooks.from_env import config_from_env


class QuickBooksResource(dg.ConfigurableResource):
    """The app's OAuth credentials, its realms and the encrypted token store.

    Everything is read from the environment (or ``.env``) when a run starts, so
    secrets never sit in Dagster's run config or UI.
    """

    def config(self) -> QuickBooksConfig:
        return config_from_env()

    @property
    def dlt_dir(self) -> Path:
        return settings.path("QBCOLLECT_DLT_DIR")
