"""Dagster resources: where qbcollect's settings are read, when a run starts."""

from resources.actions import AgencyExportResource, MailerResource
from resources.quickbooks import QuickBooksResource
from resources.warehouse import WarehouseResource

__all__ = ["AgencyExportResource", "MailerResource", "QuickBooksResource", "WarehouseResource"]
