"""What every py-libp2p peer script of the interop tests shares: events as JSON lines on stdout,
logs on stderr, commands read line by line from stdin (trio), and the host (TCP + Noise + yamux,
or QUIC v1 + libp2p TLS). Imported by the scripts beside it (their folder is on sys.path when
they run)."""
import json
import os
import sys

import multiaddr
import trio
from libp2p import new_host


def emit(event, **fields):
    """One event: a JSON object on one stdout line, flushed at once (the tests poll stdout)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def log(message):
    print(message, file=sys.stderr, flush=True)


TRANSPORTS = ("tcp", "quic")


def listen_multiaddr(transport, ip, port):
    """Where a peer listens: /ip4/IP/tcp/PORT, or /ip4/IP/udp/PORT/quic-v1 (0 = any port)."""
    if transport == "quic":
        return multiaddr.Multiaddr(f"/ip4/{ip}/udp/{port}/quic-v1")
    return multiaddr.Multiaddr(f"/ip4/{ip}/tcp/{port}")


def make_host(key_pair, transport, listen, **options):
    """A py-libp2p host for one transport. tcp: TCP + Noise + yamux (py's multistream-negotiated
    upgrade). quic: QUIC v1 only (draft-29 off) with py's libp2p TLS; QUIC muxes natively, so
    no security or muxer negotiation runs. py picks its transports from listen_addrs, so the
    host is built with the address it will listen on (a QUIC host can dial QUIC only)."""
    if transport == "quic":
        from libp2p.transport.quic.config import QUICTransportConfig
        options.update(enable_quic=True, enable_tcp=False,
                       quic_transport_opt=QUICTransportConfig(enable_draft29=False))
    return new_host(key_pair=key_pair, muxer_preference="YAMUX", listen_addrs=[listen], **options)


def listen_addrs(host):
    """The host's listen addresses as strings, each ending in /p2p/<its peer ID>."""
    me = host.get_id()
    return [str(a) if "/p2p/" in str(a) else f"{a}/p2p/{me}" for a in host.get_addrs()]


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
