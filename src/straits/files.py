"""Writing outputs safely: never a half-written file or folder, and no surprise after a run.

Every command that writes (``--out``, ``--output``, ``--store``, exports, bands)
checks the destination first (:func:`ensure_writable_folder`) and then writes
under a temporary name beside the target and renames it into place, so an
error, Ctrl-C or a full disk leaves either the old output or the new one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ensure_writable_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if missing and prove a file can be written in it.

    Raises ``OSError`` with the reason (read-only, permission denied, a file in the way).
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        pass


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed onto ``target`` when the block succeeds.

    For files and folders alike: write a file at the yielded path, or make a
    folder there and fill it. An existing folder at ``target`` is replaced.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    _remove(partial)
    try:
        yield partial
        if target.is_dir() and partial.is_dir():
            old = target.with_name(f".{target.name}.{os.getpid()}.old")
            _remove(old)
            target.rename(old)
            partial.rename(target)
            _remove(old)
        else:
            os.replace(partial, target)
    except BaseException:
        _remove(partial)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
