#!/usr/bin/env python3
"""A py-libp2p 0.8.1 peer for p2p-sync's interop tests: TCP + Noise + yamux, Ed25519 by default.

Modes (JSON lines on stdout, logs on stderr; exits by itself after --timeout seconds):
  listen                 serve identify and ping; for each peer that connects, run identify
                         against it and ping it once
  dial MULTIADDR         connect, identify, ping 3 times, then --streams N ping streams in a row

--key-type picks the identity: ed25519 (default), secp256k1 (what py's own
create_new_key_pair() makes, peer IDs 16Uiu2...), rsa (2048 bits) or ecdsa (P-256; py 0.8.1's
ECC keys cannot sign, so the host fails to start with it: kept to show that).
"""
import argparse
import secrets
import sys
import time

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto import ecc, ed25519, rsa, secp256k1
from libp2p.host.ping import ID as PING_ID, PING_LENGTH
from libp2p.identity.identify.identify import ID as IDENTIFY_ID, parse_identify_response
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.peerinfo import info_from_p2p_addr
from interop_io import emit, log, stdin_lines






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


async def identify(host, peer_id):
    stream = await host.new_stream(peer_id, [IDENTIFY_ID])
    message = parse_identify_response(await read_all(stream))
    emit("identified", peer_id=str(peer_id), agent=message.agent_version,
         protocol_version=message.protocol_version, protocols=list(message.protocols),
         listen_addrs=len(message.listen_addrs))


async def ping(host, peer_id):
    stream = await host.new_stream(peer_id, [PING_ID])
    payload = secrets.token_bytes(PING_LENGTH)
    started = time.monotonic()
    await stream.write(payload)
    answer = await read_exactly(stream, PING_LENGTH)
    rtt = (time.monotonic() - started) * 1000
    await stream.close()
    if answer != payload:
        raise RuntimeError("ping answer does not echo the payload")
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
    host = new_host(key_pair=make_key_pair(args.key_type), muxer_preference="YAMUX")
    listen = multiaddr.Multiaddr(f"/ip4/127.0.0.1/tcp/{args.port}")
    result = 0
    with trio.move_on_after(args.timeout):
        async with host.run(listen_addrs=[listen]):
            peer_id = host.get_id()
            addrs = [f"{a}/p2p/{peer_id}" if "/p2p/" not in str(a) else str(a) for a in host.get_addrs()]
            emit("listening", peer_id=str(peer_id), addrs=addrs)
            if args.mode == "dial":
                result = await dial(host, args.address, args.streams)
            else:
                await serve(host)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["listen", "dial"])
    parser.add_argument("address", nargs="?", help="multiaddr to dial, with /p2p/<id>")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--streams", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--key-type", choices=["ed25519", "secp256k1", "rsa", "ecdsa"], default="ed25519")
    arguments = parser.parse_args()
    if arguments.mode == "dial" and not arguments.address:
        parser.error("dial needs a MULTIADDR")
    sys.exit(trio.run(main, arguments))
