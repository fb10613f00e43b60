"""systemd's notify protocol (``sd_notify``): READY, WATCHDOG, STOPPING and STATUS datagrams.

Hand-written on purpose: the protocol is one ``sendto`` of ``KEY=value`` lines to the Unix
datagram socket named by ``NOTIFY_SOCKET``. The maintained bindings (systemd-python, cysystemd)
compile against libsystemd, which ``pipx install`` cannot count on; the pure-Python ones are
unmaintained (sdnotify, last release 2017) or have no public way to send ``STOPPING=1``
(systemd-watchdog). Without ``NOTIFY_SOCKET`` (not under systemd, or ``Type=simple``) every
call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("sync.systemd")

WATCHDOG_FRACTION = 1 / 3
"""Ping the watchdog after this share of ``WATCHDOG_USEC`` (systemd's advice: at least every half)."""


class ServiceNotifier:
    """Tell the service manager how the daemon is doing; never raises."""

    def __init__(self, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        # "@name" is a socket in the abstract namespace.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None
        self._clock = clock
        self._last_ping = float("-inf")
        self._socket: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when a service manager listens (``NOTIFY_SOCKET`` is set)."""
        return bool(self._address)

    def send(self, *fields: str) -> None:
        """Send ``KEY=value`` fields in one datagram."""
        if not self._address:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto("\n".join(fields).encode(), self._address)
        except OSError as error:  # systemd gone or socket unwritable: keep running, say it once
            if not self._warned:
                log.warning("cannot notify the service manager at %s: %s", self._address.lstrip("\0"), error)
                self._warned = True

    def ready(self, status: str) -> None:
        """Start-up is done (``Type=notify`` units count as started from here)."""
        self.send("READY=1", f"STATUS={status}")
        self._last_ping = self._clock()

    def status(self, text: str) -> None:
        """A one-line status shown by ``systemctl status``."""
        self.send(f"STATUS={text}")

    def watchdog(self, status: str | None = None) -> None:
        """The daemon is alive (a turn finished); with a new status line if given."""
        self.send("WATCHDOG=1", *([f"STATUS={status}"] if status else []))
        self._last_ping = self._clock()

    def watchdog_if_due(self) -> None:
        """Ping the watchdog when a third of its interval passed since the last ping (long waits)."""
        if self.watchdog_seconds is not None and \
                self._clock() - self._last_ping >= self.watchdog_seconds * WATCHDOG_FRACTION:
            self.watchdog()

    def stopping(self, status: str) -> None:
        """Shutdown has begun."""
        self.send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        """Close the socket."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
