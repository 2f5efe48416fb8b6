"""How a render ends on a signal: SIGINT (Ctrl-C), SIGTERM and SIGHUP stop it the same way, cleanly, and
while it writes what is known, further signals wait until it is written."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stop:
    """The signal that stopped the run (0: none)."""

    signal_number = 0


@contextmanager
def stopped_by_signals():
    """Within: SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt (once), and are recorded in the Stop yielded.

    Only in the main thread, where Python delivers signals; elsewhere nothing changes.

    Yields
    ------
    Stop
        ``signal_number``: the signal that stopped the block, if one did.

    Examples
    --------
    >>> import os, signal
    >>> try:
    ...     with stopped_by_signals() as stop:
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ... except KeyboardInterrupt:
    ...     print("stopped by", signal.Signals(stop.signal_number).name)
    stopped by SIGTERM
    """
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        first = not stop.signal_number
        stop.signal_number = stop.signal_number or signum
        if first:
            raise KeyboardInterrupt

    previous = {number: signal.signal(number, handler) for number in STOPPING}
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextmanager
def signals_ignored():
    """Within: a stopping signal is held until the block ends (then handled as usual).

    Yields
    ------
    None

    Examples
    --------
    >>> import os, signal
    >>> try:
    ...     with stopped_by_signals() as stop:
    ...         with signals_ignored():
    ...             os.kill(os.getpid(), signal.SIGTERM)
    ...             print("the block finished")
    ... except KeyboardInterrupt:
    ...     print("then stopped by", signal.Signals(stop.signal_number).name)
    the block finished
    then stopped by SIGTERM
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {number: signal.signal(number, lambda signum, frame: held.append(signum)) for number in STOPPING}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
        for number in held[:1]:
            signal.raise_signal(number)
