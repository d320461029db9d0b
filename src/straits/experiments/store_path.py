"""Where the results store lives by default: a module of its own so the command line can
name the ``--store`` option without loading DuckDB, Arrow or the engine."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_STORE = "straits-results.duckdb"
STORE_ENV = "STRAITS_STORE"


def default_store_path() -> Path:
    """``$STRAITS_STORE`` if set, else ``straits-results.duckdb`` in the working directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)
