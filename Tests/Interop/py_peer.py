#!/usr/bin/env python3
"""A py-libp2p 0.8.1 peer for p2p-sync's interop tests: TCP + Noise + yamux (default) or QUIC v1
with libp2p TLS (--transport quic); Ed25519 by default.

Modes (JSON lines on stdout, logs on stderr; exits by itself after --timeout seconds):
  listen                 serve identify and ping; for each peer that connects, run identify
                         against it and ping it once
  dial MULTIADDR         connect, identify, ping 3 times, then --streams N ping streams in a row
  dial MULTIADDR --repeat N
                         N times: connect, identify, ping once, disconnect; one "setup" event per
                         run (connect_ms: from the dial until identify's answer is parsed;
                         handshake_ms: until the swarm's dial_addr returned a started connection;
                         host.connect is not used, it adds a fixed 250 ms), then "setup_summary"
                         (median/min/max of connect_ms); runs are 2.5 s apart (see REPEAT_GAP)

--transport picks tcp (/ip4/127.0.0.1/tcp/PORT, the default) or quic
(/ip4/127.0.0.1/udp/PORT/quic-v1); the dialed MULTIADDR must match it (a QUIC host has only
py's QUIC transport).
--key-type picks the identity: ed25519 (default), secp256k1 (what py's own
create_new_key_pair() makes, peer IDs 16Uiu2...), rsa (2048 bits) or ecdsa (P-256; py 0.8.1's
ECC keys cannot sign, so the host fails to start with it: kept to show that).
"""
import argparse
import secrets
import statistics
import sys
import time

import multiaddr
import trio
from libp2p.crypto import ecc, ed25519, rsa, secp256k1
from libp2p.host.ping import ID as PING_ID, PING_LENGTH
from libp2p.identity.identify.identify import ID as IDENTIFY_ID, parse_identify_response
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.peerinfo import info_from_p2p_addr
from interop_io import TRANSPORTS, emit, listen_addrs, listen_multiaddr, log, make_host, stdin_lines



async def read_all(stream):
    # py's stream.read() raises StreamEOF at the end instead of returning b"".
    data = b""
    while True:
        try:
            chunk = await stream.read()
        except StreamEOF:
            return data
        if not chunk:
            return data
        data += chunk


async def read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = await stream.read(n - len(data))
        if not chunk:
            raise StreamEOF()
        data += chunk
    return data


async def identify(host, peer_id, quiet=False):
    stream = await host.new_stream(peer_id, [IDENTIFY_ID])
    message = parse_identify_response(await read_all(stream))
    if quiet:
        return
    emit("identified", peer_id=str(peer_id), agent=message.agent_version,
         protocol_version=message.protocol_version, protocols=list(message.protocols),
         listen_addrs=len(message.listen_addrs))


async def ping(host, peer_id, quiet=False):
    stream = await host.new_stream(peer_id, [PING_ID])
    payload = secrets.token_bytes(PING_LENGTH)
    started = time.monotonic()
    await stream.write(payload)
    answer = await read_exactly(stream, PING_LENGTH)
    rtt = (time.monotonic() - started) * 1000
    await stream.close()
    if answer != payload:
        raise RuntimeError("ping answer does not echo the payload")
    if not quiet:
        emit("ping", peer_id=str(peer_id), rtt_ms=round(rtt, 3))


async def dial(host, address, streams):
    info = info_from_p2p_addr(multiaddr.Multiaddr(address))
    stage = "connect"
    try:
        started = time.monotonic()
        await host.connect(info)
        emit("connected", peer_id=str(info.peer_id), seconds=round(time.monotonic() - started, 3))
        stage = "identify"
        await identify(host, info.peer_id)
        stage = "ping"
        for _ in range(3):
            await ping(host, info.peer_id)
        stage = "streams"
        ok = 0
        for _ in range(streams):
            stream = await host.new_stream(info.peer_id, [PING_ID])
            payload = secrets.token_bytes(PING_LENGTH)
            await stream.write(payload)
            ok += (await read_exactly(stream, PING_LENGTH)) == payload
            await stream.close()
        emit("streams", opened=streams, ok=ok)
        emit("done")
        return 0
    except Exception as error:  # report any failure as a line the test can read
        emit("error", stage=stage, message=f"{type(error).__name__}: {error}")
        return 1


REPEAT_GAP = 2.5  # seconds between --repeat runs


async def measure_setup(host, address, runs):
    """runs times: dial, identify, ping once, disconnect; a "setup" event per run, then a
    "setup_summary" event. The first run (cold code paths) is included. Dials with the swarm's
    dial_addr, not host.connect: host.connect always waits 250 ms more (its happy-eyeballs
    head start runs out before it returns, even with one address), which is not set-up work."""
    info = info_from_p2p_addr(multiaddr.Multiaddr(address))
    times = []
    stage = "connect"
    try:
        for run in range(1, runs + 1):
            stage = "connect"
            started = time.monotonic()
            conn = await host.get_network().dial_addr(info.addrs[0], info.peer_id)
            if hasattr(conn, "event_started"):
                await conn.event_started.wait()
            handshake_ms = (time.monotonic() - started) * 1000
            stage = "identify"
            await identify(host, info.peer_id, quiet=True)
            connect_ms = (time.monotonic() - started) * 1000
            stage = "ping"
            await ping(host, info.peer_id, quiet=True)
            times.append(connect_ms)
            emit("setup", run=run, peer_id=str(info.peer_id), connect_ms=round(connect_ms, 3),
                 handshake_ms=round(handshake_ms, 3))
            stage = "disconnect"
            await trio.sleep(0.3)  # let a serving peer finish its own identify and ping
            await host.disconnect(info.peer_id)
            while info.peer_id in host.get_network().connections:
                await trio.sleep(0.01)
            # A py QUIC listener drops a closed connection from its table only ~2 s after the
            # close, and refuses a 9th connection from one peer (per-peer limit 8) until then.
            await trio.sleep(REPEAT_GAP)
        emit("setup_summary", runs=runs, median_ms=round(statistics.median(times), 3),
             min_ms=round(min(times), 3), max_ms=round(max(times), 3))
        emit("done")
        return 0
    except Exception as error:  # report any failure as a line the test can read
        emit("error", stage=stage, message=f"{type(error).__name__}: {error}")
        return 1


async def serve(host):
    # py does not tell us about new connections in a simple way: poll the connection table.
    seen = set()
    while True:
        for peer_id in list(host.get_network().connections.keys()):
            if peer_id in seen:
                continue
            seen.add(peer_id)
            emit("connected", peer_id=str(peer_id))
            try:
                await identify(host, peer_id)
                await ping(host, peer_id)
            except Exception as error:
                emit("error", stage="serve", message=f"{type(error).__name__}: {error}")
        await trio.sleep(0.1)


def make_key_pair(key_type):
    if key_type == "secp256k1":
        return secp256k1.create_new_key_pair()
    if key_type == "rsa":
        return rsa.create_new_key_pair(2048)
    if key_type == "ecdsa":
        return ecc.create_new_key_pair("P-256")
    return ed25519.create_new_key_pair()


async def main(args):
    listen = listen_multiaddr(args.transport, "127.0.0.1", args.port)
    host = make_host(make_key_pair(args.key_type), args.transport, listen)
    result = 0
    with trio.move_on_after(args.timeout):
        async with host.run(listen_addrs=[listen]):
            emit("listening", peer_id=str(host.get_id()), addrs=listen_addrs(host))
            if args.mode == "dial" and args.repeat:
                result = await measure_setup(host, args.address, args.repeat)
            elif args.mode == "dial":
                result = await dial(host, args.address, args.streams)
            else:
                await serve(host)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["listen", "dial"])
    parser.add_argument("address", nargs="?", help="multiaddr to dial, with /p2p/<id>")
    parser.add_argument("--transport", choices=TRANSPORTS, default="tcp")
    parser.add_argument("--port", type=int, default=0, help="TCP or UDP port (0 = any)")
    parser.add_argument("--repeat", type=int, default=0, metavar="N",
                        help="dial: measure connection set-up N times instead of the ping run")
    parser.add_argument("--streams", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--key-type", choices=["ed25519", "secp256k1", "rsa", "ecdsa"], default="ed25519")
    arguments = parser.parse_args()
    if arguments.mode == "dial" and not arguments.address:
        parser.error("dial needs a MULTIADDR")
    sys.exit(trio.run(main, arguments))
