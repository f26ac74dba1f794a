#!/usr/bin/env python3
"""A py-libp2p 0.8.1 Kademlia DHT peer for p2p-sync's interop tests: TCP + Noise + yamux, Ed25519.

Usage:
  py_kad_peer.py [--host IP] [--port P] [--client] [--secp256k1] [--namespace NS]
                 [--bootstrap MULTIADDR]... [--timeout SECONDS] [--debug]

Listens on /ip4/IP/tcp/P (0 = any port) and runs KadDHT(host, DHTMode.SERVER) (--client:
DHTMode.CLIENT, which registers no /ipfs/kad/1.0.0 handler), random walk off. Identity: Ed25519
(peer IDs 12D3KooW...); --secp256k1 uses py's default create_new_key_pair() (16Uiu2...).
Each --bootstrap address (with /p2p/<id>) is dialed and passed to dht.add_peer, so it is in py's
routing table (unless identify already showed it lacks /ipfs/kad/1.0.0). Exits by itself after
--timeout seconds (exit 0). --debug logs py's kad_dht debug messages (one line per inbound
stream, message types, ...) to stderr.

Events on stdout, one JSON object per line:
  {"event":"listening","peer_id":...,"addrs":[...]}      once listening (first line)
  {"event":"connected","peer_id":...}                     each new connection, outbound or inbound
  {"event":"peer_added","peer_id":...,"added":bool,"table":N}
                                                          after a --bootstrap dial or an add_peer
                                                          command: dht.add_peer's result, table size
  {"event":"found_peer","peer_id":...,"addrs":[...]|null} find_peer result (null: not found)
  {"event":"value","key":...,"value":STR|null,"hex":HEX|null}
                                                          get_value result (value decoded as UTF-8
                                                          with replacement; hex is exact)
  {"event":"put","key":...,"ok":true}                     put_value returned (py stored it locally;
                                                          a remote peer refusing or resetting the
                                                          PUT_VALUE is only logged, not an error)
  {"event":"providers","key":...,"providers":[{"peer_id":...,"addrs":[...]},...]}
                                                          find_providers result, one entry per
                                                          peer ID (py's own list repeats a provider
                                                          once per peer that returned it); addrs
                                                          may be empty
  {"event":"provided","key":...,"ok":bool}                provide returned (ok: at least one remote
                                                          peer was sent ADD_PROVIDER)
  {"event":"table","size":N,"peers":[...]}                routing table size and peer IDs
  {"event":"error","command":...,"message":...}           a command raised; the peer keeps running
  {"event":"error","message":...}                         (no "command") fatal, e.g. a --bootstrap
                                                          dial failed; then exit 1
Commands on stdin, one per line (words separated by one space):
  find_peer PEER_ID          dht.find_peer (base58 peer ID)
  get_value KEY              dht.get_value(KEY) (answers from py's local store when it has KEY)
  fetch_value KEY            the same, after dropping py's local copy of KEY, so py asks the network
                             (result: a "value" event)
  put_value KEY VALUE        dht.put_value(KEY, VALUE as UTF-8); VALUE is the rest of the line
  find_providers CID         dht.find_providers(CID)
  provide CID                dht.provide(CID)
  add_peer MULTIADDR         dial it (with /p2p/<id>) and dht.add_peer its ID
  table                      report the routing table
  quit                       exit 0
Commands run one after another, in order. EOF on stdin is not a quit: the peer keeps running
until --timeout. Logs go to stderr.

Keys, as py 0.8.1 handles them (read from kad_dht/kad_dht.py and records/validator.py):
- put_value/get_value keys are str, sent on the wire as key.encode("utf-8"); a remote PUT_VALUE
  key that is not valid UTF-8 makes py reset the stream. No "/namespace/" prefix is required
  (KadDHT's strict_validation is False by default): a key without one (no leading "/" or no
  second "/") is checked by the fallback validator; a key "/ns/..." by the validator registered
  for "ns" ("pk" and "ipns" by default; an unregistered "ns" is accepted without validation).
  py rejects an empty value (stream reset).
- Replacing a value: py's own put_value calls select(key, [new, old]) and refuses unless it
  returns 0; its PUT_VALUE handler calls select(key, [existing, new]) and resets the stream unless
  it returns 1. py's default validators (BlankValidator for plain keys, none for unregistered
  namespaces) always pick 0, so a second PUT_VALUE of a key from another peer is REFUSED (reset).
  This script installs a "last validated wins" validator (select picks the value most recently
  passed to validate for that key, and validate is called on the incoming value before select in
  both paths) for the namespace NS (--namespace, default "p2p-sync": keys "/p2p-sync/...") and as
  the fallback for keys without a namespace. Keys under any other namespace keep py's behaviour
  (e.g. "/other/k": the second PUT from a remote peer gets a stream reset).
- get_value returns a locally stored value without asking the network, and a value it fetched
  from the network is stored locally: a later get_value keeps returning it even after another
  peer PUTs a newer value elsewhere (seen with a client-mode getter). Use fetch_value to re-ask.
- find_providers/provide take a CID string (py uses the CID's multihash bytes as the DHT key); a
  string that is not a CID but is hex is used as raw bytes, anything else as UTF-8.
"""
import argparse
import logging
import os
import sys

import multiaddr
import trio
from libp2p import new_host
from libp2p.crypto import ed25519, secp256k1
from libp2p.kad_dht.kad_dht import DHTMode, KadDHT
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.records.validator import Validator
from libp2p.tools.anyio_service import background_trio_service
from interop_io import PeerBase, emit, log, stdin_lines

POLL_INTERVAL = 0.1






class LastValidatedWins(Validator):
    """Accept any value; select the one most recently validated for the key (the incoming one
    in py's put_value and PUT_VALUE handler), the last index holding it, else the last index."""

    def __init__(self):
        self.latest = {}

    def validate(self, key, value):
        self.latest[key] = bytes(value)

    def select(self, key, values):
        latest = self.latest.get(key)
        for index in range(len(values) - 1, -1, -1):
            if values[index] == latest:
                return index
        return len(values) - 1


class Peer(PeerBase):
    def __init__(self, host, dht, scope):
        super().__init__(host, scope)
        self.dht = dht

    async def add_peer(self, address):
        info = info_from_p2p_addr(multiaddr.Multiaddr(address))
        await self.host.connect(info)
        self.note_connected(info.peer_id)
        added = await self.dht.add_peer(info.peer_id)
        emit("peer_added", peer_id=str(info.peer_id), added=bool(added), table=self.dht.get_routing_table_size())

    async def bootstrap(self, addresses):
        for address in addresses:
            try:
                await self.add_peer(address)
            except Exception as error:
                self.fail(f"bootstrap {address}: {type(error).__name__}: {error}")
                return

    async def watch(self):
        # py has no simple callback for new connections: poll.
        while True:
            now_connected = set(self.host.get_network().connections.keys())
            self.connected &= now_connected  # forget peers that went away, to report reconnects
            for peer_id in now_connected:
                self.note_connected(peer_id)
            await trio.sleep(POLL_INTERVAL)

    async def run_command(self, command, rest):
        dht = self.dht
        if command == "find_peer":
            info = await dht.find_peer(ID.from_base58(rest.strip()))
            emit("found_peer", peer_id=rest.strip(), addrs=[str(a) for a in info.addrs] if info else None)
        elif command in ("get_value", "fetch_value"):
            key = rest.strip()
            if command == "fetch_value":
                dht.value_store.remove(key.encode("utf-8"))
            value = await dht.get_value(key)
            emit("value", key=key,
                 value=value.decode("utf-8", errors="replace") if value is not None else None,
                 hex=value.hex() if value is not None else None)
        elif command == "put_value":
            key, sep, value = rest.partition(" ")
            if not key or not sep:
                raise ValueError("usage: put_value KEY VALUE")
            await dht.put_value(key, value.encode("utf-8"))
            emit("put", key=key, ok=True)
        elif command == "find_providers":
            key = rest.strip()
            merged = {}  # py lists a provider once per peer that returned it: merge by peer ID
            for info in await dht.find_providers(key):
                addrs = merged.setdefault(str(info.peer_id), [])
                addrs.extend(str(a) for a in info.addrs if str(a) not in addrs)
            emit("providers", key=key, providers=[{"peer_id": p, "addrs": a} for p, a in merged.items()])
        elif command == "provide":
            key = rest.strip()
            ok = await dht.provide(key)
            emit("provided", key=key, ok=bool(ok))
        elif command == "add_peer":
            await self.add_peer(rest.strip())
        elif command == "table":
            peers = self.dht.routing_table.get_peer_ids()
            emit("table", size=dht.get_routing_table_size(), peers=[str(p) for p in peers])
        else:
            return False
        return True

    async def read_commands(self):
        async for line in stdin_lines():
            command, _, rest = line.partition(" ")
            if command == "quit":
                self.quit()
                return
            if not line.strip():
                continue
            try:
                if not await self.run_command(command, rest):
                    log(f"ignoring unknown command: {line!r}")
            except Exception as error:  # a failed command is not fatal
                emit("error", command=line, message=f"{type(error).__name__}: {error}")


async def main(args):
    if args.debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        kad_logger = logging.getLogger("libp2p.kad_dht")
        kad_logger.addHandler(handler)
        kad_logger.setLevel(logging.DEBUG)
    listen = multiaddr.Multiaddr(f"/ip4/{args.host}/tcp/{args.port}")
    key_pair = secp256k1.create_new_key_pair() if args.secp256k1 else ed25519.create_new_key_pair()
    host = new_host(key_pair=key_pair, muxer_preference="YAMUX", listen_addrs=[listen])
    mode = DHTMode.CLIENT if args.client else DHTMode.SERVER
    dht = KadDHT(host, mode, enable_random_walk=False)
    newest_wins = LastValidatedWins()
    dht.register_validator(args.namespace, newest_wins)
    dht.validator._fallback_validator = newest_wins  # keys without a /namespace/ prefix
    peer = None
    # Every way out (timeout, quit, error) cancels this scope, so teardown runs cancelled and cannot hang.
    with trio.move_on_after(args.timeout) as scope:
        try:
            async with host.run(listen_addrs=[listen]):
                async with background_trio_service(dht):
                    peer = Peer(host, dht, scope)
                    addrs = [str(a) if "/p2p/" in str(a) else f"{a}/p2p/{peer.me}" for a in host.get_addrs()]
                    emit("listening", peer_id=str(peer.me), addrs=addrs)
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(peer.watch)
                        await peer.bootstrap(args.bootstrap)
                        nursery.start_soon(peer.read_commands)
        except Exception as error:  # includes exception groups from trio nurseries
            emit("error", message=f"{type(error).__name__}: {error}")
            return 1
    return peer.result if peer is not None else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 address to listen on (default 127.0.0.1)")
    parser.add_argument("--client", action="store_true", help="run the DHT in client mode (no inbound kad streams)")
    parser.add_argument("--secp256k1", action="store_true",
                        help="use py's default secp256k1 identity instead of Ed25519")
    parser.add_argument("--namespace", default="p2p-sync",
                        help="namespace whose keys (/NS/...) get the newest-wins validator (default p2p-sync)")
    parser.add_argument("--bootstrap", action="append", default=[], metavar="MULTIADDR",
                        help="peer to dial and add to the routing table, with /p2p/<id>; may be repeated")
    parser.add_argument("--timeout", type=float, default=60, help="exit 0 after this many seconds")
    parser.add_argument("--debug", action="store_true", help="log py's kad_dht debug messages to stderr")
    arguments = parser.parse_args()
    try:
        os.fstat(0)
    except OSError:  # started with stdin closed: keep fd 0 from being reused by a socket
        os.open(os.devnull, os.O_RDONLY)
    code = trio.run(main, arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait for library threads at interpreter shutdown
