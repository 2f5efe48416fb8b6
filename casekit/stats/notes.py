"""Notes beside a result: several cautions joined into one cell."""

from __future__ import annotations


def join_notes(*notes: str) -> str:
    """Notes joined by semicolons, empty ones left out.

    Examples
    --------
    >>> join_notes("short series", "", "trend extrapolated")
    'short series; trend extrapolated'
    """
    return "; ".join(n for n in notes if n)
