"""A spec-conformant libp2p pnet layer for py-libp2p 0.8.1, for p2p-sync's interop tests.

py-libp2p's own pnet (libp2p/security/pnet/psk_conn.py) uses Salsa20 with an 8-byte nonce and
cannot talk to go, rust or us. The spec (pnet, PSK v1): each side sends a random 24-byte nonce,
then XORs everything it sends with XSalsa20(key = PSK, nonce). XSalsa20 with nonce n is Salsa20
with key HSalsa20(PSK, n[0:16]) and nonce n[16:24]; HSalsa20 is written out below (pycryptodome
has Salsa20 but not HSalsa20), so this file is an implementation independent of libsodium's.

`install(psk_hex)` replaces the protector py's swarm calls (`new_protected_conn`), so a host made
with `new_host(psk=psk_hex)` speaks spec pnet.
"""
import os
import struct

from Crypto.Cipher import Salsa20

from libp2p.abc import IRawConnection
from libp2p.network.connection.raw_connection import RawConnection

NONCE_SIZE = 24


def _rotl(value, shift):
    return ((value << shift) & 0xFFFFFFFF) | (value >> (32 - shift))


def hsalsa20(key: bytes, nonce16: bytes) -> bytes:
    """HSalsa20 (the XSalsa20 paper, section 2): 20 Salsa20 rounds on constants, key and the
    16-byte input, with no final addition; the output is words 0, 5, 10, 15, 6, 7, 8, 9."""
    assert len(key) == 32 and len(nonce16) == 16
    c = struct.unpack("<4I", b"expand 32-byte k")
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", nonce16)
    x = [c[0], k[0], k[1], k[2], k[3], c[1], n[0], n[1], n[2], n[3], c[2], k[4], k[5], k[6], k[7], c[3]]

    def quarter(a, b, c_, d):
        x[b] ^= _rotl((x[a] + x[d]) & 0xFFFFFFFF, 7)
        x[c_] ^= _rotl((x[b] + x[a]) & 0xFFFFFFFF, 9)
        x[d] ^= _rotl((x[c_] + x[b]) & 0xFFFFFFFF, 13)
        x[a] ^= _rotl((x[d] + x[c_]) & 0xFFFFFFFF, 18)

    for _ in range(10):
        # Columns, then rows.
        quarter(0, 4, 8, 12)
        quarter(5, 9, 13, 1)
        quarter(10, 14, 2, 6)
        quarter(15, 3, 7, 11)
        quarter(0, 1, 2, 3)
        quarter(5, 6, 7, 4)
        quarter(10, 11, 8, 9)
        quarter(15, 12, 13, 14)
    return struct.pack("<8I", x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9])


def xsalsa20(key: bytes, nonce24: bytes):
    """A continuous XSalsa20 key stream as a pycryptodome cipher (encrypt = XOR)."""
    return Salsa20.new(key=hsalsa20(key, nonce24[:16]), nonce=nonce24[16:])


class SpecPskConn(RawConnection):
    """pnet over a raw connection: our nonce before our first bytes; the peer's read in full
    (py's own read(8) may return short) before its first bytes are decrypted."""

    def __init__(self, conn, psk: bytes):
        self._conn = conn
        self._psk = psk
        self._write_cipher = None
        self._read_cipher = None

    async def write(self, data: bytes) -> None:
        if self._write_cipher is None:
            nonce = os.urandom(NONCE_SIZE)
            self._write_cipher = xsalsa20(self._psk, nonce)
            await self._conn.write(nonce + self._write_cipher.encrypt(data))
            return
        await self._conn.write(self._write_cipher.encrypt(data))

    async def read(self, n: int | None = None) -> bytes:
        if self._read_cipher is None:
            nonce = b""
            while len(nonce) < NONCE_SIZE:
                chunk = await self._conn.read(NONCE_SIZE - len(nonce))
                if not chunk:
                    return b""
                nonce += chunk
            self._read_cipher = xsalsa20(self._psk, nonce)
        data = await self._conn.read(n)
        return self._read_cipher.decrypt(data) if data else b""

    async def close(self) -> None:
        await self._conn.close()

    def get_remote_address(self):
        return self._conn.get_remote_address()


def install(psk_hex: str) -> None:
    """Makes py's swarm wrap every raw connection in spec pnet with this key (64 hex digits)."""
    psk = bytes.fromhex(psk_hex)
    if len(psk) != 32:
        raise ValueError("a swarm key is 32 bytes (64 hex digits)")
    import libp2p.network.swarm as swarm_module

    def new_protected_conn(conn: RawConnection | IRawConnection, _psk: str):
        return SpecPskConn(conn, psk)

    swarm_module.new_protected_conn = new_protected_conn


def key_from_file(path: str) -> str:
    """The hex key of a go-format swarm.key file (/key/swarm/psk/1.0.0/, /base16/, hex)."""
    lines = open(path, encoding="ascii").read().splitlines()
    if len(lines) < 3 or lines[0].strip() != "/key/swarm/psk/1.0.0/" or lines[1].strip() != "/base16/":
        raise ValueError(f"{path}: not a /key/swarm/psk/1.0.0/ /base16/ key file")
    return lines[2].strip()


if __name__ == "__main__":
    # A test vector: `python3 pnet_xsalsa20.py KEYHEX NONCEHEX COUNT` prints COUNT key-stream bytes.
    import sys
    key, nonce, count = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3])
    print(xsalsa20(key, nonce).encrypt(bytes(count)).hex())
