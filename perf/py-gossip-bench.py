#!/usr/bin/env python3
"""Propagation latency across py-libp2p 0.8.1 gossipsub peers, for comparison with p2p-syncd.

Usage: py-gossip-bench.py --python VENV_PYTHON [--nodes 5] [--writes 50] [--interval-ms 50] [--seed S]

Starts --nodes Tests/Interop/py_gossip_peer.py processes on 127.0.0.1, each `--connect`ing to
2 random earlier ones (a connected sparse graph, as perf/run wires the daemons), waits until
every peer has seen the subscription of each of its neighbours and then 2 s more (py's gossipsub
heartbeat is 1 s; meshes are grafted on heartbeats), then publishes --writes messages, one every
--interval-ms, each from a random peer. Per (message, other peer) it records the time from the
origin's `published` line (the publish completed: the analogue of an `add` ack) to the
`message` line on that peer's stdout, timed when this process reads the line (CLOCK_MONOTONIC).
Prints one JSON line like `p2p-sync-bench gossip`; the started PIDs go to stderr as `pid N`
lines so perf/run can kill them.
"""
import argparse
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "Tests", "Interop", "py_gossip_peer.py")
TOPIC = "p2p-sync-bench"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--interval-ms", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300, help="each peer exits by itself after this")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lines = queue.Queue()
    procs, addrs, ids, neighbours = [], [], [], []

    def reader(i, stream):
        for raw in stream:
            now = time.monotonic()
            try:
                lines.put((i, now, json.loads(raw)))
            except ValueError:
                pass
        lines.put((i, time.monotonic(), {"event": "eof"}))

    def next_line(deadline):
        try:
            return lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    start = time.monotonic()
    try:
        for i in range(args.nodes):
            earlier = rng.sample(range(i), min(2, i))
            neighbours.append(set(earlier))
            for j in earlier:
                neighbours[j].add(i)
            command = [args.python, PEER, "--topic", TOPIC, "--timeout", str(args.timeout)]
            for j in earlier:
                command += ["--connect", addrs[j]]
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True, bufsize=1)
            print(f"pid {proc.pid}", file=sys.stderr, flush=True)
            procs.append(proc)
            threading.Thread(target=reader, args=(i, proc.stdout), daemon=True).start()
            deadline = time.monotonic() + 60
            pending = []
            while len(addrs) <= i:
                item = next_line(deadline)
                if item is None:
                    raise SystemExit(f"py peer {i} did not start listening in 60 s")
                j, _, event = item
                if j == i and event["event"] == "listening":
                    addrs.append(next(a for a in event["addrs"] if a.startswith("/ip4/127.0.0.1/")))
                    ids.append(event["peer_id"])
                elif event["event"] in ("error", "eof"):
                    raise SystemExit(f"py peer {j}: {event}")
                else:
                    pending.append(item)
            for item in pending:
                lines.put(item)
        started = time.monotonic() - start

        # Every peer must know each neighbour's subscription before the first publish.
        subscribed = [set() for _ in procs]
        want = [{ids[j] for j in neighbours[i]} for i in range(len(procs))]
        deadline = time.monotonic() + 60
        while any(not want[i] <= subscribed[i] for i in range(len(procs))):
            item = next_line(deadline)
            if item is None:
                raise SystemExit("py peers did not see their neighbours' subscriptions in 60 s")
            j, _, event = item
            if event["event"] == "peer_subscribed":
                subscribed[j].add(event["peer_id"])
            elif event["event"] in ("error", "eof"):
                raise SystemExit(f"py peer {j}: {event}")
        time.sleep(2)
        ready = time.monotonic() - start

        n = len(procs)
        origin, sent_at, ack_at = [], [], [None] * args.writes
        arrival = [[None] * n for _ in range(args.writes)]
        duplicates = 0
        t0 = time.monotonic()
        nxt = 0
        expected = args.writes * (n - 1)
        delivered = 0
        deadline = float("inf")
        while delivered < expected or None in ack_at:
            now = time.monotonic()
            if nxt < args.writes and now >= t0 + nxt * args.interval_ms / 1000:
                o = rng.randrange(n)
                origin.append(o)
                sent_at.append(time.monotonic())
                procs[o].stdin.write(f"publish pb-{nxt}\n")
                procs[o].stdin.flush()
                nxt += 1
                if nxt == args.writes:
                    deadline = time.monotonic() + 30
                continue
            if now > deadline:
                break
            wake = t0 + nxt * args.interval_ms / 1000 if nxt < args.writes else deadline
            item = next_line(wake)
            if item is None:
                continue
            j, when, event = item
            kind = event["event"]
            if kind in ("published", "message") and str(event.get("data", "")).startswith("pb-"):
                w = int(event["data"][3:])
                if w >= len(origin):
                    continue
                if kind == "published" and j == origin[w]:
                    ack_at[w] = when
                elif kind == "message" and j != origin[w]:
                    if arrival[w][j] is None:
                        arrival[w][j] = when
                        delivered += 1
                    else:
                        duplicates += 1
            elif kind in ("error", "eof"):
                raise SystemExit(f"py peer {j}: {event}")

        latency, from_send, last_node, ack_ms = [], [], [], []
        missing = early = 0
        for w in range(len(origin)):
            if ack_at[w] is not None:
                ack_ms.append((ack_at[w] - sent_at[w]) * 1000)
            last = None
            for j in range(n):
                if j == origin[w]:
                    continue
                if arrival[w][j] is None:
                    missing += 1
                    continue
                from_send.append((arrival[w][j] - sent_at[w]) * 1000)
                if ack_at[w] is None:
                    continue
                ms = (arrival[w][j] - ack_at[w]) * 1000
                early += ms < 0
                latency.append(ms)
                last = ms if last is None else max(last, ms)
            if last is not None:
                last_node.append(last)
        print(json.dumps({
            "bench": "py-gossip", "nodes": n, "writes": args.writes, "interval_ms": args.interval_ms,
            "start_s": started, "mesh_wait_s": ready - started, "expected_deliveries": expected,
            "delivered": delivered, "missing": missing, "duplicate_events": duplicates,
            "arrived_before_ack": early, "latency_ms": latency, "latency_from_send_ms": from_send,
            "last_node_ms": last_node, "ack_ms": ack_ms,
        }), flush=True)
    finally:
        for proc in procs:
            try:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
