"""The ``trace`` app (GS1 EPCIS 2.0 traceability); see :mod:`xinlian.apps.trace.app`."""

from xinlian.apps.trace.app import NAME, TraceApp
from xinlian.apps.trace.history import history

__all__ = ["NAME", "TraceApp", "history"]
