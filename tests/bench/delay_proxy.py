#!/usr/bin/env python3
"""A TCP proxy that adds a fixed delay each way, to stand in for a distant
server: with --delay-ms 25 a round trip costs 50 ms more. Bytes keep
flowing at full speed; each chunk is just delivered later.

With --count FILE it also counts each connection's flights: bursts of bytes
from the client with nothing from the server between them (the round trips
the client paid for, the TLS handshake's included; a last one it does not
wait on, such as a QUIT it leaves without waiting for, counts too). Each
connection appends its count to FILE when it closes.
usage: delay_proxy.py LISTEN_PORT TARGET_PORT [--delay-ms 25] [--count FILE]"""
import argparse
import asyncio


async def pump(reader, writer, delay, on_data):
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            on_data()
            loop.call_later(delay, writer.write, data)
        await asyncio.sleep(delay)
    finally:
        loop.call_later(delay + 0.001, writer.close)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen", type=int)
    ap.add_argument("target", type=int)
    ap.add_argument("--delay-ms", type=float, default=25.0)
    ap.add_argument("--count")
    a = ap.parse_args()
    delay = a.delay_ms / 1000.0

    async def handle(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", a.target)
        flow = {"flights": 0, "client_last": False}

        def up():
            if not flow["client_last"]:
                flow["flights"] += 1
                flow["client_last"] = True

        def down():
            flow["client_last"] = False

        # A reset on one side ends its pump with an error: still counted.
        await asyncio.gather(pump(client_reader, server_writer, delay, up),
                             pump(server_reader, client_writer, delay, down),
                             return_exceptions=True)
        if a.count:
            with open(a.count, "a") as f:
                f.write(f"{flow['flights']}\n")

    server = await asyncio.start_server(handle, "127.0.0.1", a.listen)
    print(f"delay proxy 127.0.0.1:{a.listen} -> {a.target}, {a.delay_ms} ms each way", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
