#!/usr/bin/env python3
"""Hostile UDP traffic for p2p-sync's QUIC bad-input test (no libp2p: raw sockets and aioquic).

  quic_flood.py HOST PORT [--random N] [--initials N] [--ports P]

Sends N random datagrams, then N copies of one real QUIC v1 client Initial (made by aioquic,
ALPN libp2p) from P source ports, truncated and corrupted variants among them, and prints one
JSON line with what it sent and how many bytes came back to those ports.
"""
import argparse
import json
import os
import random
import select
import socket
import time

from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection


def client_initial(host, port):
    config = QuicConfiguration(is_client=True, alpn_protocols=["libp2p"])
    connection = QuicConnection(configuration=config)
    connection.connect((host, port), now=time.time())
    return [data for data, _ in connection.datagrams_to_send(now=time.time())][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--random", type=int, default=10000)
    parser.add_argument("--initials", type=int, default=10000)
    parser.add_argument("--ports", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(11)
    sockets = []
    for _ in range(args.ports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        sockets.append(s)
    sent = 0
    target = (args.host, args.port)

    def drain():
        got = 0
        readable, _, _ = select.select(sockets, [], [], 0)
        for s in readable:
            while True:
                try:
                    got += len(s.recv(65535))
                except BlockingIOError:
                    break
        return got

    received = 0
    for i in range(args.random):
        data = os.urandom(rng.randint(1, 1500))
        sockets[i % len(sockets)].sendto(data, target)
        sent += len(data)
        if i % 500 == 0:
            received += drain()
    initial = client_initial(args.host, args.port)
    for i in range(args.initials):
        data = initial
        if i % 10 == 1:
            data = initial[: rng.randint(1, len(initial) - 1)]
        elif i % 10 == 2:
            b = bytearray(initial)
            b[rng.randrange(len(b))] ^= 0xFF
            data = bytes(b)
        sockets[i % len(sockets)].sendto(data, target)
        sent += len(data)
        if i % 200 == 0:
            received += drain()
            time.sleep(0.002)
    deadline = time.time() + 2
    while time.time() < deadline:
        received += drain()
        time.sleep(0.05)
    print(json.dumps({"event": "done", "sent_bytes": sent, "received_bytes": received,
                      "datagrams": args.random + args.initials, "initial_size": len(initial)}), flush=True)


if __name__ == "__main__":
    main()
