"""A TCP proxy on 127.0.0.1 that dies on purpose: ``python fault_proxy.py LISTEN_PORT TARGET_PORT [DIE_AFTER]``.

It forwards every connection to TARGET_PORT and, once it has forwarded DIE_AFTER chunks from clients to
the server (counted over all connections), exits at once without a word to anyone: both ends see their
connection drop as when a network path or a pooler dies. The last chunk it forwarded reached the server,
whose answer is lost, so a COMMIT may land without the client ever knowing. Prints "ready" when listening,
and on SIGTERM "forwarded N" (the client chunks it forwarded) before it exits.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import sys

forwarded = 0


def main(listen_port: int, target_port: int, die_after: int | None) -> None:
    """Serve until killed, or until DIE_AFTER client chunks were forwarded."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, None)
    signal.signal(signal.SIGTERM, _report)
    print("ready", flush=True)
    global forwarded
    while True:
        for key, _ in sel.select():
            if key.data is None:
                _accept(server, target_port, sel)
                continue
            peer, from_client = key.data
            try:
                chunk = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
            except OSError:
                chunk = b""
            if not chunk:
                _close(key.fileobj, peer, sel)
                continue
            peer.sendall(chunk)
            if from_client:
                forwarded += 1
                if die_after is not None and forwarded >= die_after:
                    os._exit(0)  # the kernel closes every socket: both sides see the connection go


def _report(*_: object) -> None:
    print(f"forwarded {forwarded}", flush=True)
    os._exit(0)


def _accept(server: socket.socket, target_port: int, sel: selectors.BaseSelector) -> None:
    client, _ = server.accept()
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    for sock in (client, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sel.register(client, selectors.EVENT_READ, (upstream, True))
    sel.register(upstream, selectors.EVENT_READ, (client, False))


def _close(sock: object, peer: socket.socket, sel: selectors.BaseSelector) -> None:
    for s in (sock, peer):
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0], args[1], args[2] if len(args) > 2 else None)
