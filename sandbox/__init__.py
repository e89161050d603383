"""A local QuickBooks Online Accounting API server, wire-compatible with Intuit's."""

from sandbox.app import build_app
from sandbox.server import SandboxServer, build_sandbox
from sandbox.service import Sandbox

__all__ = ["Sandbox", "SandboxServer", "build_app", "build_sandbox"]
