"""A local QuickBooks Online Accounting API server, wire-compatible with Intuit's."""

from sandbox.app import Sandbox, build_app
from sandbox.server import SandboxServer, build_sandbox

__all__ = ["Sandbox", "SandboxServer", "build_app", "build_sandbox"]
