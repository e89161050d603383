"""The sandbox's own tests: its features, driven by plain HTTP clients that do not retry 429.

The sandbox enforces Intuit's 10 requests a second by default. These tests issue
requests back to back to check other behaviour, so they turn that one limit off;
``test_faults.py`` checks the limit itself, and the pipeline's tests run with it on.
"""

from __future__ import annotations

import pytest

from sandbox import SandboxServer


@pytest.fixture
def sandbox_server(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.sandbox.limits.requests_per_second = 0
    return sandbox_server
