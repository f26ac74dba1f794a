#!/usr/bin/env python3
"""What py-libp2p 0.8.1's QUIC transport puts on the wire, seen from inside aioquic (a probe for
QUIC-NOTES.md, not a test peer): two py hosts in one process, one listening on
/ip4/127.0.0.1/udp/0/quic-v1, the other dialing it, identify, ping, then IDLE seconds of silence.

Usage: py_quic_probe.py LISTENER_KEY DIALER_KEY IDLE_SECONDS     (keys: ed25519 | secp256k1)

Logs (stdout, ms since start): ClientHello (cipher suites, groups, key shares, signature
algorithms, ALPN, SNI), ServerHello, CertificateRequest, CertificateVerify, each side's transport
parameters as the other side parsed them, every stream event on each side (stream id, first
bytes, FIN), datagrams sent while idle, the negotiated version/cipher/ALPN, and each side's
certificate as its peer received it (DER, hex). aioquic is monkeypatched to log; nothing is changed.
"""
import os
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import multiaddr
import trio
from aioquic import tls
from aioquic.quic import connection as qc
from aioquic.quic import events as qe
from aioquic.quic.packet import pull_quic_transport_parameters
from aioquic.buffer import Buffer
from cryptography.hazmat.primitives import serialization
from libp2p.crypto import ed25519, secp256k1
from libp2p.peer.peerinfo import info_from_p2p_addr
from interop_io import make_host, listen_multiaddr, listen_addrs
from py_peer import identify, ping

T0 = time.monotonic()
def out(*a):
    print(f"{(time.monotonic()-T0)*1000:9.1f}ms", *a, flush=True)
def name(x, enum):
    try: return enum(x).name
    except Exception: return hex(x)

orig_ch = tls.pull_client_hello
def pull_client_hello(buf):
    ch = orig_ch(buf)
    out("ClientHello: ciphers", [name(c, tls.CipherSuite) for c in ch.cipher_suites],
        "groups", [name(g, tls.Group) for g in ch.supported_groups or []],
        "key_shares", [name(k[0], tls.Group) for k in ch.key_share or []],
        "sigalgs", [name(s, tls.SignatureAlgorithm) for s in ch.signature_algorithms or []],
        "alpn", ch.alpn_protocols, "sni", ch.server_name, "versions", ch.supported_versions,
        "psk_modes", ch.psk_key_exchange_modes, "other_ext", [hex(e[0]) for e in ch.other_extensions])
    return ch
tls.pull_client_hello = pull_client_hello
orig_sh = tls.pull_server_hello
def pull_server_hello(buf):
    sh = orig_sh(buf)
    out("ServerHello: cipher", name(sh.cipher_suite, tls.CipherSuite), "key_share", name(sh.key_share[0], tls.Group) if sh.key_share else None)
    return sh
tls.pull_server_hello = pull_server_hello
orig_cr = tls.pull_certificate_request
def pull_certificate_request(buf):
    cr = orig_cr(buf)
    out("CertificateRequest received: sigalgs", [name(s, tls.SignatureAlgorithm) for s in cr.signature_algorithms or []], "ctx", cr.request_context)
    return cr
tls.pull_certificate_request = pull_certificate_request
orig_cv = tls.pull_certificate_verify
def pull_certificate_verify(buf):
    cv = orig_cv(buf)
    out("CertificateVerify received: alg", name(cv.algorithm, tls.SignatureAlgorithm))
    return cv
tls.pull_certificate_verify = pull_certificate_verify

orig_ptp = qc.QuicConnection._parse_transport_parameters
def _parse_transport_parameters(self, data, from_session_ticket=False):
    p = pull_quic_transport_parameters(Buffer(data=data))
    d = {k: v for k, v in vars(p).items() if v is not None and k not in ("stateless_reset_token", "initial_source_connection_id", "original_destination_connection_id")}
    if "version_information" in d: d["version_information"] = (hex(p.version_information.chosen_version), [hex(v) for v in p.version_information.available_versions])
    out(("client" if self._is_client else "server"), "received peer transport params:", d)
    return orig_ptp(self, data, from_session_ticket)
qc.QuicConnection._parse_transport_parameters = _parse_transport_parameters

orig_next = qc.QuicConnection.next_event
def next_event(self):
    ev = orig_next(self)
    who = "dialer" if self._is_client else "listener"
    if isinstance(ev, qe.StreamDataReceived):
        out(f"{who} <- stream {ev.stream_id} ({'client' if ev.stream_id % 2 == 0 else 'server'}-initiated) {ev.data[:70]!r}{'...' if len(ev.data) > 70 else ''} len={len(ev.data)} fin={ev.end_stream}")
    elif isinstance(ev, qe.StreamReset):
        out(f"{who} <- RESET stream {ev.stream_id} code {ev.error_code}")
    elif ev is not None and not isinstance(ev, (qe.ConnectionIdIssued, qe.ConnectionIdRetired)):
        out(f"{who} event {type(ev).__name__} {getattr(ev, 'alpn_protocol', '')}{getattr(ev, 'reason_phrase', '')}{getattr(ev, 'error_code', '')}")
    return ev
qc.QuicConnection.next_event = next_event

SIZES = {"dialer": [], "listener": []}
orig_dts = qc.QuicConnection.datagrams_to_send
def datagrams_to_send(self, now):
    d = orig_dts(self, now)
    SIZES["dialer" if self._is_client else "listener"] += [len(x) for x, _ in d]
    return d
qc.QuicConnection.datagrams_to_send = datagrams_to_send

KEYS = {"ed25519": ed25519.create_new_key_pair, "secp256k1": secp256k1.create_new_key_pair}

async def main(lkey, dkey, idle):
    la = listen_multiaddr("quic", "127.0.0.1", 0)
    lb = listen_multiaddr("quic", "127.0.0.1", 0)
    a = make_host(KEYS[lkey](), "quic", la)
    b = make_host(KEYS[dkey](), "quic", lb)
    async with a.run([la]), b.run([lb]):
        addr = listen_addrs(a)[0]
        info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
        out("=== dial", addr)
        await b.connect(info)
        out("=== connected; identify")
        await identify(b, info.peer_id)
        out("=== ping")
        await ping(b, info.peer_id)
        out("=== idle", idle, "s")
        before = dict((k, len(v)) for k, v in SIZES.items())
        await trio.sleep(idle)
        out("datagrams during idle:", {k: len(v) - before[k] for k, v in SIZES.items()})
        conn_b = b.get_network().connections[info.peer_id][0].muxed_conn
        conn_a = a.get_network().connections[b.get_id()][0].muxed_conn
        for who, c in (("dialer", conn_b), ("listener", conn_a)):
            q = c._quic
            out(who, "version", hex(q._version), "cipher", q.tls.key_schedule.cipher_suite.name if q.tls.key_schedule else None,
                "alpn", q.tls.alpn_negotiated, "peer cert present", q.tls._peer_certificate is not None,
                "local max_streams_bidi", q._local_max_streams_bidi.value, "uni", q._local_max_streams_uni.value,
                "remote max_streams_bidi", q._remote_max_streams_bidi, "idle_timeout", q._configuration.idle_timeout,
                "max_datagram_size", q._configuration.max_datagram_size, "cc", q._configuration.congestion_control_algorithm)
            cert = q.tls._peer_certificate
            if cert is not None:
                out(who, "sees peer cert DER", cert.public_bytes(serialization.Encoding.DER).hex())
        out("max datagram sizes sent:", {k: max(v) for k, v in SIZES.items()}, "first dialer datagrams:", SIZES["dialer"][:4], "first listener:", SIZES["listener"][:4])
        print("PEERS listener", a.get_id(), "dialer", b.get_id())

trio.run(main, sys.argv[1], sys.argv[2], float(sys.argv[3]))
