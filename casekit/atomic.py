"""Files that appear whole or not at all, with the permissions of a file the user made."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced(path: Path, suffix: str = ".tmp"):
    """A temporary path beside ``path`` to write; when the block ends well it becomes ``path``, with the
    umask's permissions (not mkstemp's private ones), and when it fails it is removed: a failure never
    leaves half a file or destroys the last good one."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
