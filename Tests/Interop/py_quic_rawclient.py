#!/usr/bin/env python3
"""A bare aioquic client (no libp2p) against a py_peer.py QUIC listener, to see what py-libp2p 0.8.1
does with the client's certificate and with its streams (a probe for QUIC-NOTES.md, not a test).

Usage: py_quic_rawclient.py MODE...    MODE: none | plain | ext | ext-critical
  none          no client certificate
  plain         a self-signed P-256 certificate without the libp2p extension
  ext           a libp2p certificate (empty subject, random serial, ten years), extension non-critical
  ext-critical  the same with the extension marked critical
For each mode: connect (ALPN libp2p), open stream 0 and write, pipelined in one write,
"/multistream/1.0.0", "/ipfs/ping/1.0.0" and 32 zero bytes; log what py sends on every stream and
how it closes; never answer py's own streams (to see what py does then); close after ~15 s.
"""
import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from aioquic.asyncio import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic import events as qe
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from libp2p.crypto import ed25519
from libp2p.peer.id import ID
from libp2p.transport.quic.security import LibP2PExtensionHandler, LIBP2P_TLS_EXTENSION_OID

PY = sys.executable
T0 = time.monotonic()
def out(*a): print(f"{(time.monotonic()-T0)*1000:9.1f}ms", *a, flush=True)

def make_cert(mode):
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ident = ed25519.create_new_key_pair()
    now = datetime.now(timezone.utc)
    b = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([]))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=3650)))
    if mode in ("ext", "ext-critical"):
        b = b.add_extension(x509.UnrecognizedExtension(LIBP2P_TLS_EXTENSION_OID,
                            LibP2PExtensionHandler.create_signed_key_extension(ident.private_key, spki)),
                            critical=(mode == "ext-critical"))
    return b.sign(key, hashes.SHA256()), key, ID.from_pubkey(ident.public_key)

class Proto(QuicConnectionProtocol):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.data = {}
        self.terminated = asyncio.Event()
    def quic_event_received(self, ev):
        if isinstance(ev, qe.StreamDataReceived):
            out(f"  <- stream {ev.stream_id} {ev.data[:60]!r} fin={ev.end_stream}")
            self.data.setdefault(ev.stream_id, b"")
            self.data[ev.stream_id] += ev.data
        elif isinstance(ev, qe.ConnectionTerminated):
            out(f"  <- CONNECTION_CLOSE error_code={ev.error_code:#x} frame_type={ev.frame_type} reason={ev.reason_phrase!r}")
            self.terminated.set()
        elif isinstance(ev, qe.HandshakeCompleted):
            out(f"  handshake completed alpn={ev.alpn_protocol}")
        elif isinstance(ev, qe.StreamReset):
            out(f"  <- RESET_STREAM {ev.stream_id} code {ev.error_code}")

async def attempt(port, mode, peer_id):
    out(f"=== client cert mode: {mode}")
    cfg = QuicConfiguration(is_client=True, alpn_protocols=["libp2p"], verify_mode=ssl.CERT_NONE, idle_timeout=30)
    if mode != "none":
        cert, key, my_id = make_cert(mode)
        cfg.certificate, cfg.private_key = cert, key
        out("  our peer id", my_id if mode.startswith("ext") else "(none)")
    try:
        async with connect("127.0.0.1", port, configuration=cfg, create_protocol=Proto) as client:
            srv = client._quic.tls._peer_certificate
            out("  server cert CN", srv.subject.rfc4514_string(), "expected", peer_id)
            # our own stream: multistream header then ping, pipelined in one write
            sid = client._quic.get_next_available_stream_id()
            client._quic.send_stream_data(sid, b"\x13/multistream/1.0.0\n\x11/ipfs/ping/1.0.0\n" + bytes(32))
            client.transmit()
            try:
                await asyncio.wait_for(client.terminated.wait(), 3.0)
            except asyncio.TimeoutError:
                pass
            out(f"  our stream {sid} got {client.data.get(sid, b'')!r}")
            out(f"  streams opened by py: {[s for s in client.data if s % 2 == 1]}")
            if not client.terminated.is_set():
                # Don't answer py's stream 1 and see if py gives up: wait a while longer.
                try:
                    await asyncio.wait_for(client.terminated.wait(), 12.0)
                except asyncio.TimeoutError:
                    out("  still connected after 15 s without answering py's identify stream")
    except Exception as e:
        out("  exception", type(e).__name__, e)

async def main():
    listener = subprocess.Popen([PY, os.path.join(os.path.dirname(os.path.abspath(__file__)), "py_peer.py"), "listen", "--transport", "quic", "--timeout", "120"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = json.loads(listener.stdout.readline())
    addr = first["addrs"][0]; port = int(addr.split("/")[4])
    out("py listening", addr)
    for mode in sys.argv[1:]:
        await attempt(port, mode, first["peer_id"])
    listener.terminate()
    out("listener stdout:", listener.stdout.read())

asyncio.run(main())
