"""Outputs that appear whole or not at all: a file written beside its target, fsynced, renamed over it;
a folder built beside its target and renamed into place. Every stage that must not leave half an
output (metrics, models, records, checkpoints, excluded.csv) writes through here."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: bytes | str, mode: int = 0o644) -> Path:
    """Write `data` (bytes, or text as UTF-8) to `path` so that a reader sees the old file or the new one.

    The bytes are written to a temporary file in the same folder, flushed to disk (fsync) and
    renamed over `path`; an interrupted write leaves no partial file and no temporary behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)            # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def building_folder(folder: str | Path) -> Path:
    """Where a folder is built before it replaces `folder`: data/records -> data/.records.tmp."""
    folder = Path(folder)
    return folder.with_name(f".{folder.name}.tmp")


def replace_folder(built: str | Path, folder: str | Path) -> Path:
    """Put a finished folder in place of `folder` (and its old contents): a reader sees the old one, none, or
    the new one whole, never a mixture. The renames are within one parent folder."""
    built, folder = Path(built), Path(folder)
    retired = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if folder.exists():
        folder.rename(retired)
    built.rename(folder)
    shutil.rmtree(retired, ignore_errors=True)
    return folder
