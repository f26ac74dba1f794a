#!/usr/bin/env python3
"""The machine's fsync rate where the daemons keep their data: appends of 4 KiB to a file,
each followed by fsync (what a committed SQLite WAL transaction costs at synchronous=FULL,
the floor of a sequential `add`). Prints one JSON line."""
import json, os, sys, time

directory, seconds = sys.argv[1], float(sys.argv[2])
path = os.path.join(directory, "fsync-bench.tmp")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
block = b"\x5a" * 4096
count, start = 0, time.monotonic()
try:
    while time.monotonic() - start < seconds:
        os.write(fd, block)
        os.fsync(fd)
        count += 1
finally:
    os.close(fd)
    os.unlink(path)
elapsed = time.monotonic() - start
print(json.dumps({"bench": "fsync", "fsyncs_per_sec": count / elapsed, "seconds": elapsed}))
