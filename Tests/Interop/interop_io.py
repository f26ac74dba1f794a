"""What every py-libp2p peer script of the interop tests shares: events as JSON lines on stdout,
logs on stderr, and commands read line by line from stdin (trio). Imported by the scripts beside
it (their folder is on sys.path when they run)."""
import json
import os
import sys

import trio


def emit(event, **fields):
    """One event: a JSON object on one stdout line, flushed at once (the tests poll stdout)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def log(message):
    print(message, file=sys.stderr, flush=True)


async def stdin_lines():
    """Yields stdin's lines (UTF-8, errors replaced, the newline and a CR removed) until EOF.
    No stdin, or EOF, is not a quit: the caller's peer keeps running until its --timeout."""
    try:
        stdin = trio.lowlevel.FdStream(os.dup(0))
    except OSError:
        log("no stdin; running until --timeout")
        return
    buffer = b""
    while True:
        chunk = await stdin.receive_some(65536)
        if not chunk:
            log("stdin closed; running until --timeout")
            return
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            yield raw.decode("utf-8", errors="replace").rstrip("\r")


class PeerBase:
    """A test peer's life: the host, the trio cancel scope that ends it, the peers it reported
    connected, and its exit status (1 after a fatal error)."""

    def __init__(self, host, scope):
        self.host = host
        self.scope = scope
        self.me = host.get_id()
        self.connected = set()
        self.result = 0

    def fail(self, message):
        """Report a fatal error, then stop everything: the process exits 1."""
        if self.result == 0:
            emit("error", message=message)
        self.result = 1
        self.scope.cancel()

    def quit(self):
        self.scope.cancel()

    def note_connected(self, peer_id):
        if peer_id not in self.connected and peer_id != self.me:
            self.connected.add(peer_id)
            emit("connected", peer_id=str(peer_id))
