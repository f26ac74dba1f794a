#!/usr/bin/env python3
"""py-libp2p 0.8.1 measured the way perf/run measures our daemons (issue 7): connection
set-up between two py hosts on loopback (TCP, multistream, Noise, yamux: `host.connect`,
then `disconnect`, N times) and the one-hop round trip (/ipfs/ping/1.0.0, 32 bytes, M times
on one stream). Both hosts live in this one process. One JSON line per measurement set.

Usage: .venv-interop/bin/python perf/py-connect-bench.py [--connects N] [--pings M]
"""
import argparse
import json
import secrets
import statistics
import sys
import time

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.host.ping import ID as PING_ID, PING_LENGTH
from libp2p.peer.peerinfo import PeerInfo


async def read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = await stream.read(n - len(data))
        if not chunk:
            raise EOFError("stream ended")
        data += chunk
    return data


def summary(xs):
    xs = sorted(xs)
    return {"median": statistics.median(xs), "p99": xs[min(len(xs) - 1, round(0.99 * (len(xs) - 1)))],
            "min": xs[0], "max": xs[-1], "count": len(xs)}


async def main(args):
    with trio.fail_after(300):
        await measure(args)


async def measure(args):
    listen = [multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/0")]
    a = new_host(key_pair=create_new_key_pair(), muxer_preference="YAMUX", listen_addrs=listen)
    b = new_host(key_pair=create_new_key_pair(), muxer_preference="YAMUX", listen_addrs=listen)
    async with a.run(listen_addrs=listen), b.run(listen_addrs=listen):
        info = PeerInfo(a.get_id(), a.get_addrs())
        connect_ms = []
        for _ in range(args.connects):
            started = time.perf_counter()
            await b.connect(info)
            connect_ms.append((time.perf_counter() - started) * 1000)
            await b.disconnect(a.get_id())
            await trio.sleep(0.01)
        print(json.dumps({"bench": "py-connect", **summary(connect_ms)}), flush=True)
        await b.connect(info)
        stream = await b.new_stream(a.get_id(), [PING_ID])
        rtt_ms = []
        for _ in range(args.pings):
            payload = secrets.token_bytes(PING_LENGTH)
            started = time.perf_counter()
            await stream.write(payload)
            answer = await read_exactly(stream, PING_LENGTH)
            rtt_ms.append((time.perf_counter() - started) * 1000)
            if answer != payload:
                raise RuntimeError("ping answer differs")
        print(json.dumps({"bench": "py-ping", **summary(rtt_ms)}), flush=True)
        await stream.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connects", type=int, default=50)
    parser.add_argument("--pings", type=int, default=200)
    arguments = parser.parse_args()
    trio.run(main, arguments)
    sys.stdout.flush()
