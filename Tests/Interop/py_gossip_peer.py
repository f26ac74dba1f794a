#!/usr/bin/env python3
"""A py-libp2p 0.8.1 gossipsub peer for p2p-sync's interop tests: TCP + Noise + yamux (default) or
QUIC v1 with libp2p TLS (--transport quic), Ed25519.

Usage:
  py_gossip_peer.py --topic TOPIC [--transport tcp|quic] [--host IP] [--port P] [--mdns]
                    [--connect MULTIADDR]... [--swarm-key FILE] [--timeout SECONDS]

Listens on /ip4/IP/tcp/P, or /ip4/IP/udp/P/quic-v1 with --transport quic (0 = any port),
subscribes to TOPIC, dials each --connect address (of the same transport), and exits by itself
after --timeout seconds (exit 0). With --swarm-key (a go-format swarm.key), every TCP connection
runs in that private network with spec pnet (XSalsa20, 24-byte nonce: pnet_xsalsa20.py), not
py-libp2p's own non-standard Salsa20 pnet.

Events on stdout, one JSON object per line:
  {"event":"listening","peer_id":...,"addrs":[...]}      once listening and subscribed (first line)
  {"event":"connected","peer_id":...}                     each new connection, outbound or inbound
  {"event":"discovered","peer_id":...,"addrs":[...]}      (--mdns) a peer py's mDNS found; it is dialed
  {"event":"peer_subscribed","peer_id":...,"topic":...}   a remote peer's subscription to TOPIC is known
  {"event":"message","from":...,"data":...,"seqno":...,"topic":...}
                                                          a message from another peer on TOPIC
                                                          (our own publishes are not echoed)
  {"event":"published","data":...}                        a publish from stdin completed
  {"event":"error","message":...}                         then exit 1
Commands on stdin, one per line:
  publish <rest of line>    publish the rest of the line (UTF-8) on TOPIC
  quit                      exit 0
EOF on stdin is not a quit: the peer keeps running until --timeout.
Logs go to stderr.
"""
import argparse
import os
import sys

import multiaddr
import trio
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
import libp2p.pubsub.pubsub as pubsub_module
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.tools.anyio_service import background_trio_service
from interop_io import TRANSPORTS, PeerBase, emit, listen_addrs, listen_multiaddr, log, make_host, stdin_lines

PROTOCOLS = [TProtocol("/meshsub/1.1.0"), TProtocol("/meshsub/1.0.0"), TProtocol("/floodsub/1.0.0")]
POLL_INTERVAL = 0.1

# py hands messages to a subscription through a channel of 32 and silently drops the rest
# ("fail to deliver message to subscription") when a burst arrives faster than our reader task
# gets scheduled. subscribe() reads this module global, so make the channel big enough for bursts.
pubsub_module.SUBSCRIPTION_CHANNEL_SIZE = 100_000


class _BigRpcQueue(RpcQueue):
    """py's per-peer outbound queue holds 32 RPCs and drops the rest silently. Publishing (or
    relaying) a burst fills it before the sender task runs, so give it room for bursts."""

    def __init__(self, max_size=100_000, **kwargs):
        super().__init__(max_size, **kwargs)


pubsub_module.RpcQueue = _BigRpcQueue  # Pubsub._handle_new_peer calls RpcQueue() by this name






class Peer(PeerBase):
    def __init__(self, host, pubsub, topic, scope):
        super().__init__(host, scope)
        self.pubsub = pubsub
        self.topic = topic

    async def connect_all(self, addresses):
        for address in addresses:
            try:
                info = info_from_p2p_addr(multiaddr.Multiaddr(address))
                await self.host.connect(info)
            except Exception as error:
                self.fail(f"connect {address}: {type(error).__name__}: {error}")
                return
            self.note_connected(info.peer_id)

    async def dial_discovered(self):
        # py's mDNS fills the peerstore and its listener's table; report and dial what the
        # listener found (the table holds only what mDNS found, not what identify taught us).
        reported = set()
        while True:
            mdns = getattr(self.host, "mDNS", None)
            found = {peer_id for peer_id, _ in mdns.listener.discovered_services.values()} if mdns else set()
            store = self.host.get_peerstore()
            connected = set(self.host.get_network().connections.keys())
            for peer_id in found:
                if peer_id == self.me:
                    continue
                if peer_id not in reported:
                    reported.add(peer_id)
                    emit("discovered", peer_id=str(peer_id), addrs=[str(a) for a in store.addrs(peer_id)])
                if peer_id not in connected:
                    try:
                        await self.host.connect(PeerInfo(peer_id, store.addrs(peer_id)))
                    except Exception as error:
                        log(f"dial {peer_id}: {type(error).__name__}: {error}")
            await trio.sleep(POLL_INTERVAL)

    async def watch(self):
        # py has no simple callbacks for new connections or remote subscriptions: poll both.
        subscribed = set()
        while True:
            now_connected = set(self.host.get_network().connections.keys())
            self.connected &= now_connected  # forget peers that went away, to report reconnects
            for peer_id in now_connected:
                self.note_connected(peer_id)
            now_subscribed = set(self.pubsub.peer_topics.get(self.topic, ()))
            for peer_id in now_subscribed - subscribed:
                if peer_id != self.me:
                    emit("peer_subscribed", peer_id=str(peer_id), topic=self.topic)
            subscribed = now_subscribed
            await trio.sleep(POLL_INTERVAL)

    async def receive(self, subscription):
        while True:
            msg = await subscription.get()
            author = ID(msg.from_id)
            if author == self.me:
                continue  # py delivers our own publishes to our own subscription too
            topics = list(msg.topicIDs)
            emit("message", **{
                "from": author.to_base58(),
                "data": msg.data.decode("utf-8", errors="replace"),
                "seqno": msg.seqno.hex(),
                "topic": self.topic if self.topic in topics or not topics else topics[0],
            })

    async def read_commands(self):
        async for line in stdin_lines():
            command, _, rest = line.partition(" ")
            if command == "publish":
                try:
                    await self.pubsub.publish(self.topic, rest.encode("utf-8"))
                except Exception as error:
                    self.fail(f"publish: {type(error).__name__}: {error}")
                    return
                emit("published", data=rest)
            elif command == "quit":
                self.quit()
                return
            elif line.strip():
                log(f"ignoring unknown command: {line!r}")


async def main(args):
    listen = listen_multiaddr(args.transport, args.host, args.port)
    options = {}
    if args.swarm_key:
        import pnet_xsalsa20
        psk = pnet_xsalsa20.key_from_file(args.swarm_key)
        pnet_xsalsa20.install(psk)
        options["psk"] = psk
    host = make_host(create_new_key_pair(), args.transport, listen, enable_mDNS=args.mdns, **options)
    gossipsub = GossipSub(
        protocols=PROTOCOLS,
        degree=6,
        degree_low=4,
        degree_high=12,
        heartbeat_interval=1,
        spam_protection_enabled=False,  # tests publish bursts; the default limit is 10 msg/s per peer and topic
    )
    pubsub = Pubsub(host, gossipsub)  # strict_signing=True (StrictSign) is the default
    peer = None
    # Every way out (timeout, quit, error) cancels this scope, so teardown runs cancelled and cannot hang.
    with trio.move_on_after(args.timeout) as scope:
        try:
            async with host.run(listen_addrs=[listen]):
                async with background_trio_service(pubsub):
                    async with background_trio_service(gossipsub):
                        await pubsub.wait_until_ready()
                        subscription = await pubsub.subscribe(args.topic)
                        peer = Peer(host, pubsub, args.topic, scope)
                        emit("listening", peer_id=str(peer.me), addrs=listen_addrs(host))
                        async with trio.open_nursery() as nursery:
                            nursery.start_soon(peer.receive, subscription)
                            nursery.start_soon(peer.watch)
                            nursery.start_soon(peer.read_commands)
                            if args.mdns:
                                nursery.start_soon(peer.dial_discovered)
                            await peer.connect_all(args.connect)
        except Exception as error:  # includes exception groups from trio nurseries
            emit("error", message=f"{type(error).__name__}: {error}")
            return 1
    return peer.result if peer is not None else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--transport", choices=TRANSPORTS, default="tcp",
                        help="tcp (TCP + Noise + yamux, default) or quic (QUIC v1 + libp2p TLS)")
    parser.add_argument("--port", type=int, default=0, help="TCP or UDP port (0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 address to listen on (default 127.0.0.1)")
    parser.add_argument("--mdns", action="store_true",
                        help="enable py-libp2p's mDNS discovery and dial every peer it finds (prints discovered events)")
    parser.add_argument("--connect", action="append", default=[], metavar="MULTIADDR",
                        help="peer to dial, with /p2p/<id>; may be repeated")
    parser.add_argument("--swarm-key", metavar="FILE",
                        help="private network key file (go's swarm.key format): spec pnet on every TCP connection")
    parser.add_argument("--timeout", type=float, default=60, help="exit 0 after this many seconds")
    arguments = parser.parse_args()
    try:
        os.fstat(0)
    except OSError:  # started with stdin closed: keep fd 0 from being reused by a socket
        os.open(os.devnull, os.O_RDONLY)
    code = trio.run(main, arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait for library threads at interpreter shutdown
