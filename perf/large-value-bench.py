#!/usr/bin/env python3
"""Values too large for gossip (issue 15): writes a value of --bytes on the first daemon and
times, for each of the others, when its `watch` reports the write applied (announced by
gossip, fetched by catch-up). One JSON line per run on stdout."""
import argparse, json, random, socket, string, time

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s, s.makefile("rb")

def request(sock, reader, obj):
    sock.sendall((json.dumps(obj) + "\n").encode())
    while True:
        line = json.loads(reader.readline())
        if "ok" in line:
            if not line["ok"]:
                raise SystemExit(f"large-value-bench: {obj['command']} failed: {line}")
            return line

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", required=True, help="control sockets, comma-separated; the first writes")
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    paths = args.sockets.split(",")
    writer = connect(paths[0])
    watchers = [connect(p) for p in paths[1:]]
    for s, r in watchers:
        request(s, r, {"command": "watch", "prefix": "large/"})
    rng = random.Random(1)
    for run in range(args.runs):
        key = f"large/{run}-{time.time_ns()}"
        value = "".join(rng.choice(string.ascii_letters) for _ in range(args.bytes))
        t0 = time.monotonic()
        request(*writer, {"command": "add", "key": key, "value": value})
        ack = time.monotonic() - t0
        seen = []
        for s, r in watchers:
            s.settimeout(args.timeout)
            while True:
                line = json.loads(r.readline())
                event = line.get("event")
                if event and event["key"] == key:
                    if event["value"] != value:
                        raise SystemExit(f"large-value-bench: {key} arrived with another value")
                    seen.append(time.monotonic() - t0)
                    break
        print(json.dumps({"bench": "large-value", "bytes": args.bytes, "nodes": len(paths),
                          "ack_ms": ack * 1000, "readable_ms": [t * 1000 for t in seen],
                          "all_ms": max(seen) * 1000}), flush=True)

if __name__ == "__main__":
    main()
