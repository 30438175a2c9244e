"""The table of built-in apps, by name."""

from __future__ import annotations

from xinlian.apps.base import App
from xinlian.apps.evidence import EvidenceApp
from xinlian.apps.governance import GovernanceApp
from xinlian.apps.identity import IdentityApp
from xinlian.apps.kv import KvApp
from xinlian.apps.trace import TraceApp


def builtin_apps() -> dict[str, App]:
    """A fresh table of the built-in apps keyed by name (genesis order: identity first)."""
    apps: list[App] = [IdentityApp(), GovernanceApp(), KvApp(), EvidenceApp(), TraceApp()]
    return {app.name: app for app in apps}
