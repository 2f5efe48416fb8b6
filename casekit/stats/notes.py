"""Notes beside a result: several cautions joined into one cell, and p-values as readers write them."""

from __future__ import annotations


def join_notes(*notes: str) -> str:
    """Notes joined by semicolons, empty ones left out.

    Parameters
    ----------
    *notes : str
        The notes.

    Returns
    -------
    str

    Examples
    --------
    >>> join_notes("short series", "", "trend extrapolated")
    'short series; trend extrapolated'
    """
    return "; ".join(n for n in notes if n)


def format_p(p: float) -> str:
    """A p-value as a reader expects it: ``= 0.042``, ``< 0.001``, ``> 0.999``.

    Parameters
    ----------
    p : float
        A p-value.

    Returns
    -------
    str
        With its comparison sign, three decimals.

    Examples
    --------
    >>> [format_p(p) for p in (0.04213, 0.0000788, 1.0, 0.5)]
    ['= 0.042', '< 0.001', '> 0.999', '= 0.500']
    """
    if p != p:
        return "not computed"
    if p < 0.001:
        return "< 0.001"
    return "> 0.999" if p >= 0.9995 else f"= {p:.3f}"
