"""A TCP proxy that delays every chunk by a fixed time in each direction: a database "over the network".

    python benchmarks/latency_proxy.py --listen 127.0.0.1:13306 --to 127.0.0.1:3306 --delay-ms 1

Loopback answers in ~50 us, which hides what round trips cost against a database on another host
(0.3-2 ms is usual within a data centre). ``benchmarks/run.py --latency-ms`` starts one of these in front
of each server and points every contender at it. Order is kept; throughput is not limited. asyncio's
timers have about a millisecond of granularity, so the delay is at least the one asked for, not exactly it.
"""

from __future__ import annotations

import argparse
import asyncio


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each chunk sent ``delay`` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await chunks.get()
            if not data:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(1 << 16):
            chunks.put_nowait((loop.time() + delay, data))
    except ConnectionError:
        pass
    chunks.put_nowait((0.0, b""))
    try:
        await sender
    except ConnectionError:
        pass
    writer.close()


async def _serve(listen: tuple[str, int], to: tuple[str, int], delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*to)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, server_w, delay), _pipe(server_r, client_w, delay))

    server = await asyncio.start_server(handle, *listen)
    print(f"proxy {listen[0]}:{listen[1]} -> {to[0]}:{to[1]}, {delay * 1000:g} ms each way", flush=True)
    async with server:
        await server.serve_forever()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main() -> None:
    """Run the proxy until interrupted."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=_address, required=True, help="host:port to accept connections on")
    ap.add_argument("--to", type=_address, required=True, help="host:port of the database server")
    ap.add_argument("--delay-ms", type=float, default=1.0, help="delay added in each direction")
    ns = ap.parse_args()
    try:
        asyncio.run(_serve(ns.listen, ns.to, ns.delay_ms / 1000))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
