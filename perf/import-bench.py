#!/usr/bin/env python3
"""`p2p-syncctl import` into the first of several connected daemons (issue 15): times the
import command and the moment every daemon holds all the imported keys (their `status`
`keys`, polled every 0.1 s). One JSON line per run on stdout."""
import argparse, json, os, socket, subprocess, tempfile, time

def status(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b'{"command":"status"}\n')
    line = s.makefile("rb").readline()
    s.close()
    return json.loads(line)["result"]

def cpu_seconds(data_dir):
    """The daemon's user+system CPU time, by the pid in its lock file."""
    pid = open(os.path.join(data_dir, "p2p-syncd.lock")).read().strip()
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", required=True, help="the p2p-syncctl binary")
    ap.add_argument("--data-dirs", required=True, help="data dirs, comma-separated; the first imports")
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--run", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    dirs = args.data_dirs.split(",")
    sockets = [os.path.join(d, "control.sock") for d in dirs]
    before = [status(s)["keys"] for s in sockets]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for i in range(args.keys):
            f.write(json.dumps({"key": f"import/{args.run}/{i:08d}", "value": f"imported value {i:08d}"}) + "\n")
        name = f.name
    cpu_before = sum(cpu_seconds(d) for d in dirs)
    try:
        t0 = time.monotonic()
        done = subprocess.run([args.ctl, "--data-dir", dirs[0], "import", name], capture_output=True, text=True)
        imported = time.monotonic() - t0
        if done.returncode != 0:
            raise SystemExit(f"import-bench: import failed: {done.stderr.strip()}")
        applied = [None] * len(dirs)
        while None in applied and time.monotonic() - t0 < args.timeout:
            for i, s in enumerate(sockets):
                if applied[i] is None and status(s)["keys"] >= before[i] + args.keys:
                    applied[i] = time.monotonic() - t0
            time.sleep(0.1)
        if None in applied:
            raise SystemExit(f"import-bench: not every daemon had the keys after {args.timeout} s: {applied}")
    finally:
        os.unlink(name)
    # All daemons' CPU per imported write: with C cores the machine cannot apply more than
    # C / this many writes per second on all of them, whatever the code around it does.
    cpu_per_write_us = (sum(cpu_seconds(d) for d in dirs) - cpu_before) / args.keys * 1e6
    print(json.dumps({"bench": "import", "keys": args.keys, "nodes": len(dirs), "import_s": imported,
                      "daemons_cpu_us_per_write": cpu_per_write_us, "cores": os.cpu_count(),
                      "applied_s": applied, "all_s": max(applied), "writes_per_sec_on_all": args.keys / max(applied)}), flush=True)

if __name__ == "__main__":
    main()
