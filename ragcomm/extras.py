"""Optional parts: a missing extra is one clear line naming what to install."""
from __future__ import annotations

import importlib


class MissingExtra(RuntimeError):
    pass


def require(module: str, extra: str):
    """The imported module, or MissingExtra saying which extra installs it.

    >>> require("json", "none").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"this needs '{module}', which is not installed: pip install 'ragcomm[{extra}]'") from None
