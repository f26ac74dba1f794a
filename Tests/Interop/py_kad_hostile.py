#!/usr/bin/env python3
"""A hostile Kademlia peer on py-libp2p 0.8.1 for p2p-sync's bad-input tests: TCP + Noise + yamux,
Ed25519.

Usage:
  py_kad_hostile.py --mode MODE [--host IP] [--port P] [--timeout SECONDS]
                    [--huge-bytes N] [--huge-peers N] [--huge-addrs N]
                    [--request-timeout SECONDS] [--quiet] [--debug]

Listens on /ip4/IP/tcp/P (0 = any port) and registers its OWN stream handler for /ipfs/kad/1.0.0
(no KadDHT), so a node that reads identify sees a DHT server. Every Kademlia message (served or
sent) is encoded and decoded by hand here (uvarint length prefix + protobuf, spec section 8), so it
can be malformed or oversized. Exits by itself after --timeout seconds (exit 0).

Server behaviour (--mode), for every inbound /ipfs/kad/1.0.0 stream: read one uvarint-framed
request, answer it, loop until EOF (py_kad_hostile never closes a stream first):
  random-peers  answer every request (but ADD_PROVIDER, which takes no answer) with a message of
                the request's type and key whose closerPeers are 20 fresh random Ed25519-shaped
                peer IDs (identity multihash 00 24 08 01 12 20 + 32 random bytes; no key behind
                them), each with one address /ip4/127.0.0.1/tcp/P where P is a port nothing listens
                on (bound, noted and closed just before; another process could reuse it).
  huge          answer with closerPeers of --huge-peers (10000) peers, each with --huge-addrs
                (1000) addresses (10 bytes each: /ip4/127.0.0.1/tcp/P, P from a pool of 64 closed
                ports), but stop adding peers before the message body passes --huge-bytes (default
                4 MiB = 4194304): the full 10000 x 1000 would be ~100 MB. The frame is sent whole,
                even if the remote resets midway; a "sent" event tells what went out.
  garbage       answer the Nth request (counted over all streams) with, in turn:
                  random     a valid length prefix + 256 random bytes
                  truncated  a valid length prefix + a response protobuf (20 closerPeers) cut in
                             the middle of its 11th closerPeers entry (the prefix matches the cut
                             body: a well-framed, malformed protobuf)
                  short      a length prefix of 4096 followed by only 100 bytes, then py closes
                             its write side (EOF inside a frame)
  silent        read requests and never answer; the stream stays open (after the remote's EOF
                too) until the remote resets it or the peer exits.

Events on stdout, one JSON object per line:
  {"event":"listening","peer_id":...,"addrs":[...]}       first line
  {"event":"request","type":N,"key":HEX,"bytes":B,"peer_id":...}
                                                          each request read (not with --quiet)
  {"event":"bad_request","message":...,"peer_id":...}    an inbound frame that did not parse
                                                          (or exceeded 16 MiB): stream reset
  {"event":"sent","mode":...,"variant":...,"bytes":B,"peers":N,"addrs_per_peer":A,"ok":bool,
   "error":...}                                           huge and garbage: each answer sent
                                                          (bytes: frame incl. prefix; ok false:
                                                          the write failed, e.g. remote reset)
  {"event":"stats","requests":N,"by_type":{...},"answered":N,"streams":N,"open_streams":N,
   "bytes_sent":N,"bad_requests":N}                       stats command
  {"event":"flood","sent":N,"answered":M,"reset":R,"closed":C,"timeouts":T,"open_failed":F,
   "streams":S,"closer_peers":P,"seconds":SEC,"connected_after":bool}
                                                          flood result (reset/closed/open_failed
                                                          count streams; timeouts: requests with
                                                          no answer within --request-timeout)
  {"event":"put_oversized","bytes":N,"frame_bytes":F,"outcome":O,"write_ok":bool,
   "write_error":...,"seconds":S,"connected_after":bool}
                                                          O: answered (the echo, "echo_ok"
                                                          tells if it matched), reset, closed,
                                                          timeout or error; write_ok null: py
                                                          was still writing when the outcome
                                                          came (it then stops writing)
  {"event":"garbage_request","results":[{"variant":...,"outcome":...,"seconds":S},...],
   "check":{"outcome":...,"closer_peers":N},"connected_after":bool,"same_connection":bool}
                                                          outcomes: answered, reset, closed
                                                          (EOF), timeout (no reaction in
                                                          --request-timeout seconds; then py closes
                                                          its write side and "after_close" tells
                                                          what followed), error
  {"event":"error","command":...,"message":...}           a command raised; the peer keeps running
  {"event":"error","message":...}                         (no "command") fatal; exit 1
Commands on stdin, one per line (words separated by spaces); MULTIADDR includes /p2p/<id>:
  flood MULTIADDR N [PER_STREAM [PARALLEL]]
                             dial, then send N FIND_NODE requests (random 38-byte peer-ID keys):
                             PER_STREAM requests one after another on each stream (default 10;
                             1 = one stream each), PARALLEL streams at a time (default 10). A stream
                             that is reset or closed sends no more requests, so sent may be < N.
  put_oversized MULTIADDR BYTES
                             PUT_VALUE of key /p2p-sync/hostile-<hex> with a BYTES-byte value (the
                             write runs while py waits for the outcome)
  garbage_request MULTIADDR  on a fresh stream each: "random" (valid prefix + 256 random bytes),
                             "truncated" (valid prefix, FIND_NODE protobuf cut inside its key),
                             "bad_varint" (ten 0xff bytes: an over-long uvarint), "huge_prefix"
                             (prefix claiming 2^40 bytes + 100 bytes); then a valid FIND_NODE on a
                             new stream of the same connection
  stats                      report counters of the served side
  quit                       exit 0
Commands run one after another. EOF on stdin is not a quit: the peer keeps running until
--timeout. Logs go to stderr.
"""
import argparse
import logging
import os
import socket
import sys
import time

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto import ed25519
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from interop_io import emit, log, stdin_lines

KAD_PROTOCOL = TProtocol("/ipfs/kad/1.0.0")
PUT_VALUE, GET_VALUE, ADD_PROVIDER, GET_PROVIDERS, FIND_NODE, PING = range(6)
MAX_READ_FRAME = 16 * 1024 * 1024  # what this script accepts from the remote
GARBAGE_VARIANTS = ("random", "truncated", "short")






# ---- protobuf by hand -------------------------------------------------------------------------

def uvarint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def pb_varint(field, value):
    return uvarint(field << 3) + uvarint(value)


def pb_bytes(field, data):
    return uvarint((field << 3) | 2) + uvarint(len(data)) + data


def frame(body):
    return uvarint(len(body)) + body


def pb_parse(data):
    """Lenient protobuf parse: {field: [value, ...]} (varints as int, length-delimited as bytes).
    Raises ValueError on anything malformed."""
    fields = {}
    pos = 0

    def read_varint():
        nonlocal pos
        result = shift = 0
        while True:
            if pos >= len(data):
                raise ValueError("truncated varint")
            if shift >= 64:
                raise ValueError("varint too long")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while pos < len(data):
        key = read_varint()
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value = read_varint()
        elif wire == 2:
            length = read_varint()
            if pos + length > len(data):
                raise ValueError("truncated length-delimited field")
            value = bytes(data[pos:pos + length])
            pos += length
        elif wire == 1:
            if pos + 8 > len(data):
                raise ValueError("truncated fixed64")
            value = bytes(data[pos:pos + 8])
            pos += 8
        elif wire == 5:
            if pos + 4 > len(data):
                raise ValueError("truncated fixed32")
            value = bytes(data[pos:pos + 4])
            pos += 4
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def kad_message(msg_type, key=b"", record=None, closer=(), providers=()):
    """Message bytes; closer/providers are pre-encoded Peer bodies; record is (key, value)."""
    body = bytearray()
    if msg_type:  # proto3: PUT_VALUE = 0 is absent
        body += pb_varint(1, msg_type)
    if key:
        body += pb_bytes(2, key)
    if record is not None:
        body += pb_bytes(3, pb_bytes(1, record[0]) + pb_bytes(2, record[1]))
    for peer in closer:
        body += pb_bytes(8, peer)
    for peer in providers:
        body += pb_bytes(9, peer)
    return bytes(body)


def kad_peer(peer_id, addrs):
    return pb_bytes(1, peer_id) + b"".join(pb_bytes(2, a) for a in addrs)


def random_peer_id():
    return bytes([0x00, 0x24, 0x08, 0x01, 0x12, 0x20]) + os.urandom(32)


def tcp_addr(port, ip=(127, 0, 0, 1)):
    """Binary multiaddr /ip4/IP/tcp/PORT."""
    return bytes([0x04, *ip, 0x06]) + port.to_bytes(2, "big")


def dead_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe(fields):
    """A summary of a parsed Message."""
    msg_type = fields.get(1, [0])[-1]
    return {"type": msg_type if isinstance(msg_type, int) else None,
            "key": fields.get(2, [b""])[-1] if isinstance(fields.get(2, [b""])[-1], bytes) else b"",
            "closer": len(fields.get(8, [])), "providers": len(fields.get(9, [])),
            "record": fields.get(3, [None])[-1]}


class FrameReader:
    """Reads uvarint-prefixed frames from a py net stream. read_frame returns None on a clean EOF
    between frames; raises EOFError inside a frame, ValueError on a bad prefix, RemoteReset when
    the remote reset the stream, and lets other stream errors through."""

    def __init__(self, stream, limit=MAX_READ_FRAME):
        self.stream = stream
        self.limit = limit
        self.buffer = bytearray()
        self.eof = False

    async def fill(self):
        if self.eof:
            return False
        try:
            chunk = await self.stream.read(65536)
        except Exception as error:
            if type(error).__name__ in ("StreamEOF", "MuxedStreamEOF", "EOFError"):
                chunk = b""
            else:
                raise
        if not chunk:
            # py's yamux drops a stream's bookkeeping on RST, so a later read reports EOF:
            # the muxed stream's reset_received flag tells the two apart.
            if was_reset(self.stream):
                raise RemoteReset("stream reset by the remote")
            self.eof = True
            return False
        self.buffer += chunk
        return True

    async def read_frame(self):
        length = shift = 0
        pos = 0
        while True:
            while pos >= len(self.buffer):
                if not await self.fill():
                    if pos == 0:
                        return None
                    raise EOFError("EOF inside a length prefix")
            byte = self.buffer[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if pos >= 9:
                raise ValueError("length prefix longer than 9 bytes")
        if length > self.limit:
            raise ValueError(f"frame of {length} bytes exceeds {self.limit}")
        while len(self.buffer) < pos + length:
            if not await self.fill():
                raise EOFError(f"EOF inside a frame ({len(self.buffer) - pos} of {length} bytes)")
        body = bytes(self.buffer[pos:pos + length])
        del self.buffer[:pos + length]
        return body


class RemoteReset(Exception):
    pass


def was_reset(stream):
    return bool(getattr(getattr(stream, "muxed_stream", None), "reset_received", False))


def stream_outcome(error):
    """Classify a stream error: reset, closed (EOF), or error."""
    name = type(error).__name__
    if isinstance(error, RemoteReset):
        return "reset"
    cause = type(error.__cause__).__name__ if error.__cause__ is not None else ""
    if "Reset" in name or "Reset" in cause:
        return "reset"
    if isinstance(error, EOFError) or "EOF" in name or "EOF" in cause or "Closed" in name:
        return "closed"
    return "error"


# ---- the peer ---------------------------------------------------------------------------------

class Hostile:
    def __init__(self, host, args, scope):
        self.host = host
        self.args = args
        self.scope = scope
        self.me = host.get_id()
        self.requests = 0
        self.by_type = {}
        self.answered = 0
        self.streams = 0
        self.open_streams = 0
        self.bytes_sent = 0
        self.bad_requests = 0
        self.garbage_count = 0
        self.port_pool = [dead_port() for _ in range(64)]
        self.huge_body = None

    # -- serving --

    async def handle_stream(self, stream):
        self.streams += 1
        self.open_streams += 1
        try:
            remote = str(stream.muxed_conn.peer_id)
        except Exception:
            remote = None
        reader = FrameReader(stream)
        try:
            while True:
                try:
                    body = await reader.read_frame()
                except (ValueError, EOFError) as error:
                    self.bad_requests += 1
                    emit("bad_request", message=f"{type(error).__name__}: {error}", peer_id=remote)
                    await stream.reset()
                    return
                if body is None:
                    break
                try:
                    info = describe(pb_parse(body))
                except ValueError as error:
                    self.bad_requests += 1
                    emit("bad_request", message=f"protobuf: {error}", peer_id=remote)
                    await stream.reset()
                    return
                self.requests += 1
                self.by_type[str(info["type"])] = self.by_type.get(str(info["type"]), 0) + 1
                if not self.args.quiet:
                    emit("request", type=info["type"], key=info["key"].hex(), bytes=len(body), peer_id=remote)
                if not await self.answer(stream, info):
                    return
            # EOF from the remote
            if self.args.mode == "silent":
                await trio.sleep_forever()  # keep our side open
            await stream.close()
        except Exception as error:  # reset by the remote, connection gone, ...
            log(f"inbound stream from {remote}: {type(error).__name__}: {error}")
        finally:
            self.open_streams -= 1

    async def send(self, stream, data):
        await stream.write(data)
        self.bytes_sent += len(data)

    async def answer(self, stream, info):
        """Answer one request per --mode; False: stop serving this stream."""
        mode = self.args.mode
        if mode == "silent":
            return True
        if mode == "random-peers":
            if info["type"] == ADD_PROVIDER:
                return True
            peers = [kad_peer(random_peer_id(), [tcp_addr(dead_port())]) for _ in range(20)]
            await self.send(stream, frame(kad_message(info["type"], info["key"], closer=peers)))
            self.answered += 1
            return True
        if mode == "huge":
            if self.huge_body is None:
                self.huge_body = self.build_huge()
            body, peers = self.huge_body
            data = frame(body)
            fields = dict(mode=mode, variant="huge", bytes=len(data), peers=peers,
                          addrs_per_peer=self.args.huge_addrs)
            try:
                await self.send(stream, data)
            except Exception as error:
                emit("sent", **fields, ok=False, error=f"{type(error).__name__}: {error}")
                return False
            self.answered += 1
            emit("sent", **fields, ok=True, error=None)
            return True
        if mode == "garbage":
            variant = GARBAGE_VARIANTS[self.garbage_count % len(GARBAGE_VARIANTS)]
            self.garbage_count += 1
            peers_in = None
            if variant == "random":
                data = frame(os.urandom(256))
            elif variant == "truncated":
                peers = [kad_peer(random_peer_id(), [tcp_addr(p)]) for p in self.port_pool[:20]]
                full = kad_message(info["type"], info["key"], closer=peers)
                cut = len(full) - 9 * len(pb_bytes(8, peers[0])) - 20  # inside the 11th entry
                data = frame(full[:cut])
                peers_in = 20
            else:  # short
                data = uvarint(4096) + os.urandom(100)
            fields = dict(mode=mode, variant=variant, bytes=len(data), peers=peers_in, addrs_per_peer=None)
            try:
                await self.send(stream, data)
                if variant == "short":
                    await stream.close()
            except Exception as error:
                emit("sent", **fields, ok=False, error=f"{type(error).__name__}: {error}")
                return False
            self.answered += 1
            emit("sent", **fields, ok=True, error=None)
            return variant != "short"
        raise ValueError(f"unknown mode {mode}")

    def build_huge(self):
        addrs = [tcp_addr(self.port_pool[i % len(self.port_pool)]) for i in range(self.args.huge_addrs)]
        addr_blob = b"".join(pb_bytes(2, a) for a in addrs)
        body = bytearray(pb_varint(1, FIND_NODE))
        count = 0
        for _ in range(self.args.huge_peers):
            entry = pb_bytes(8, pb_bytes(1, random_peer_id()) + addr_blob)
            if len(body) + len(entry) > self.args.huge_bytes:
                break
            body += entry
            count += 1
        log(f"huge response: {count} peers x {self.args.huge_addrs} addrs, {len(body)} bytes body")
        return bytes(body), count

    # -- client actions --

    async def dial(self, address):
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        await self.host.connect(info)
        return info.peer_id

    def connected(self, peer_id):
        conns = self.host.get_network().connections.get(peer_id)
        return bool(conns)

    def connection_ids(self, peer_id):
        conns = self.host.get_network().connections.get(peer_id)
        if conns is None:
            return set()
        if not isinstance(conns, (list, tuple, set)):
            conns = [conns]
        return {id(c) for c in conns}

    async def flood(self, address, total, per_stream, parallel):
        peer_id = await self.dial(address)
        counts = dict(sent=0, answered=0, reset=0, closed=0, timeouts=0, open_failed=0, streams=0,
                      closer_peers=0)
        limiter = trio.CapacityLimiter(parallel)
        started = time.monotonic()

        async def one_stream(count):
            async with limiter:
                try:
                    stream = await self.host.new_stream(peer_id, [KAD_PROTOCOL])
                except Exception as error:
                    counts["open_failed"] += 1
                    log(f"flood: new_stream: {type(error).__name__}: {error}")
                    return
                counts["streams"] += 1
                reader = FrameReader(stream)
                try:
                    for _ in range(count):
                        await stream.write(frame(kad_message(FIND_NODE, random_peer_id())))
                        counts["sent"] += 1
                        with trio.move_on_after(self.args.request_timeout) as timer:
                            body = await reader.read_frame()
                        if timer.cancelled_caught:
                            counts["timeouts"] += 1
                            await stream.reset()
                            return
                        if body is None:
                            counts["closed"] += 1
                            return
                        counts["answered"] += 1
                        counts["closer_peers"] += describe(pb_parse(body))["closer"]
                    await stream.close()
                except Exception as error:
                    outcome = stream_outcome(error)
                    counts["reset" if outcome == "reset" else "closed"] += 1
                    if outcome == "error":
                        log(f"flood: {type(error).__name__}: {error}")

        async with trio.open_nursery() as nursery:
            remaining = total
            while remaining > 0:
                count = min(per_stream, remaining)
                remaining -= count
                nursery.start_soon(one_stream, count)
        emit("flood", **counts, seconds=round(time.monotonic() - started, 3),
             connected_after=self.connected(peer_id))

    async def exchange(self, stream, data, close_after_timeout=True):
        """Write data while waiting for an answer; returns a result dict."""
        reader = FrameReader(stream)
        result = {"write_ok": None, "write_error": None}
        started = time.monotonic()

        async def writer():
            try:
                await stream.write(data)
                result["write_ok"] = True
            except Exception as error:
                result["write_ok"] = False
                result["write_error"] = f"{type(error).__name__}: {error}"

        async def read_outcome():
            try:
                body = await reader.read_frame()
                if body is None:
                    return {"outcome": "closed"}
                return {"outcome": "answered", "response": body}
            except Exception as error:
                outcome = stream_outcome(error)
                return {"outcome": outcome, "error": f"{type(error).__name__}: {error}"}

        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            with trio.move_on_after(self.args.request_timeout):
                result.update(await read_outcome())
            if "outcome" not in result:
                result["outcome"] = "timeout"
                if close_after_timeout:
                    try:
                        await stream.close()
                    except Exception:
                        pass
                    with trio.move_on_after(self.args.request_timeout):
                        after = await read_outcome()
                        result["after_close"] = after["outcome"]
                    result.setdefault("after_close", "timeout")
            nursery.cancel_scope.cancel()
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    async def put_oversized(self, address, size):
        peer_id = await self.dial(address)
        key = f"/p2p-sync/hostile-{os.urandom(4).hex()}".encode()
        value = os.urandom(size)
        data = frame(kad_message(PUT_VALUE, key, record=(key, value)))
        stream = await self.host.new_stream(peer_id, [KAD_PROTOCOL])
        result = await self.exchange(stream, data)
        response = result.pop("response", None)
        if response is not None:
            try:
                info = describe(pb_parse(response))
                record = pb_parse(info["record"]) if info["record"] else {}
                result["echo_ok"] = info["key"] == key and record.get(2, [b""])[-1] == value
                result["response_bytes"] = len(response)
            except ValueError as error:
                result["echo_ok"] = False
                result["response_error"] = str(error)
        try:
            await stream.reset()
        except Exception:
            pass
        emit("put_oversized", bytes=size, frame_bytes=len(data), **result,
             connected_after=self.connected(peer_id))

    async def garbage_request(self, address):
        peer_id = await self.dial(address)
        conns_before = self.connection_ids(peer_id)
        valid = kad_message(FIND_NODE, random_peer_id())
        variants = [
            ("random", frame(os.urandom(256))),
            ("truncated", frame(valid[:len(valid) - 10])),  # key field cut short
            ("bad_varint", b"\xff" * 10 + b"\x01"),
            ("huge_prefix", uvarint(1 << 40) + os.urandom(100)),
        ]
        results = []
        for name, data in variants:
            try:
                stream = await self.host.new_stream(peer_id, [KAD_PROTOCOL])
            except Exception as error:
                results.append({"variant": name, "outcome": "open_failed",
                                "error": f"{type(error).__name__}: {error}"})
                continue
            result = await self.exchange(stream, data)
            response = result.pop("response", None)
            if response is not None:
                result["response_bytes"] = len(response)
            results.append({"variant": name, **result})
            try:
                await stream.reset()
            except Exception:
                pass
        check = {}
        try:
            stream = await self.host.new_stream(peer_id, [KAD_PROTOCOL])
            result = await self.exchange(stream, frame(kad_message(FIND_NODE, random_peer_id())))
            response = result.pop("response", None)
            check = dict(result)
            if response is not None:
                check["closer_peers"] = describe(pb_parse(response))["closer"]
            await stream.close()
        except Exception as error:
            check = {"outcome": "error", "error": f"{type(error).__name__}: {error}"}
        conns_after = self.connection_ids(peer_id)
        emit("garbage_request", results=results, check=check, connected_after=bool(conns_after),
             same_connection=bool(conns_before & conns_after))

    async def run_command(self, command, words):
        if command == "flood":
            if len(words) < 2:
                raise ValueError("usage: flood MULTIADDR N [PER_STREAM [PARALLEL]]")
            per_stream = int(words[2]) if len(words) > 2 else 10
            parallel = int(words[3]) if len(words) > 3 else 10
            await self.flood(words[0], int(words[1]), max(1, per_stream), max(1, parallel))
        elif command == "put_oversized":
            if len(words) != 2:
                raise ValueError("usage: put_oversized MULTIADDR BYTES")
            await self.put_oversized(words[0], int(words[1]))
        elif command == "garbage_request":
            if len(words) != 1:
                raise ValueError("usage: garbage_request MULTIADDR")
            await self.garbage_request(words[0])
        elif command == "stats":
            emit("stats", requests=self.requests, by_type=self.by_type, answered=self.answered,
                 streams=self.streams, open_streams=self.open_streams, bytes_sent=self.bytes_sent,
                 bad_requests=self.bad_requests)
        else:
            return False
        return True

    async def read_commands(self):
        async for line in stdin_lines():
            line = line.strip()
            if not line:
                continue
            command, *words = line.split()
            if command == "quit":
                self.scope.cancel()
                return
            try:
                if not await self.run_command(command, words):
                    log(f"ignoring unknown command: {line!r}")
            except Exception as error:  # a failed command is not fatal
                emit("error", command=line, message=f"{type(error).__name__}: {error}")


async def main(args):
    if args.debug:
        logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
    listen = multiaddr.Multiaddr(f"/ip4/{args.host}/tcp/{args.port}")
    host = new_host(key_pair=ed25519.create_new_key_pair(), muxer_preference="YAMUX", listen_addrs=[listen])
    peer = None
    with trio.move_on_after(args.timeout) as scope:
        try:
            async with host.run(listen_addrs=[listen]):
                peer = Hostile(host, args, scope)
                host.set_stream_handler(KAD_PROTOCOL, peer.handle_stream)
                addrs = [str(a) if "/p2p/" in str(a) else f"{a}/p2p/{peer.me}" for a in host.get_addrs()]
                emit("listening", peer_id=str(peer.me), addrs=addrs)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(peer.read_commands)
                    await trio.sleep_forever()
        except Exception as error:  # includes exception groups from trio nurseries
            emit("error", message=f"{type(error).__name__}: {error}")
            return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", required=True, choices=["random-peers", "huge", "garbage", "silent"])
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 address to listen on (default 127.0.0.1)")
    parser.add_argument("--timeout", type=float, default=60, help="exit 0 after this many seconds")
    parser.add_argument("--request-timeout", type=float, default=10,
                        help="client actions: seconds to wait for an answer (default 10)")
    parser.add_argument("--huge-bytes", type=int, default=4 * 1024 * 1024,
                        help="huge: cap on the response body in bytes (default 4194304)")
    parser.add_argument("--huge-peers", type=int, default=10000, help="huge: closer peers wanted (default 10000)")
    parser.add_argument("--huge-addrs", type=int, default=1000, help="huge: addresses per peer (default 1000)")
    parser.add_argument("--quiet", action="store_true", help="no per-request events (use stats)")
    parser.add_argument("--debug", action="store_true", help="log py-libp2p debug messages to stderr")
    arguments = parser.parse_args()
    try:
        os.fstat(0)
    except OSError:  # started with stdin closed: keep fd 0 from being reused by a socket
        os.open(os.devnull, os.O_RDONLY)
    code = trio.run(main, arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
