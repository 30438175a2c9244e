"""Built-in system applications: plain Python modules behind one small interface.

An app has a name, a table of methods (each with an argument record, the role it needs
and whether it only reads) and a genesis hook. Execution calls methods with a
:class:`CallContext` that meters gas and scopes state keys to the app.

Exceptions::

    AppError
     └── CallError          a call was refused; carries the TxStatus to record
"""

from xinlian.apps.base import App, AppError, CallContext, CallError, Method, Role, require
from xinlian.apps.registry import builtin_apps

__all__ = [
    "App",
    "AppError",
    "CallContext",
    "CallError",
    "Method",
    "Role",
    "builtin_apps",
    "require",
]
