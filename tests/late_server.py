"""A database that comes up late: a TCP port on 127.0.0.1 that refuses or drops connections, then forwards.

Compose starts the app and its database together; the app's first connection attempts hit a port where
nothing listens yet (refused) or, through docker's port proxy, a port that accepts and hangs up at once.
``LateServer`` plays both parts in front of a real server, so ``--wait`` is tested against real drivers.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

from sqlrun.config import DatabaseURL, parse_url


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LateServer:
    """Refuses connections until ``open()``; then drops the first ``drop_first`` it accepts; then forwards them."""

    def __init__(self, target_host: str, target_port: int, *, drop_first: int = 0) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.drop_first = drop_first
        self.dropped = 0
        self.forwarded = 0
        self._listener: socket.socket | None = None
        self._open_sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def url_for(self, url: str | DatabaseURL) -> DatabaseURL:
        """``url`` with its host and port replaced by this server's."""
        parsed = parse_url(url) if isinstance(url, str) else url
        return replace(parsed, host="127.0.0.1", port=self.port)

    def open(self) -> None:
        """Start listening (connections were refused until now)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Stop listening and cut every connection."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open_sockets:
                _quiet_close(sock)
            self._open_sockets.clear()

    def __enter__(self) -> LateServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed: the server is going away
                return
            if self.dropped < self.drop_first:
                self.dropped += 1
                client.close()  # what docker's port proxy does while the container is not listening yet
                continue
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self.forwarded += 1
            self._open_sockets += [client, upstream]
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until either side closes, then close both."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass  # the other direction closed the sockets; nothing left to copy
    finally:
        _quiet_close(source)
        _quiet_close(sink)


def _quiet_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already disconnected
    sock.close()
