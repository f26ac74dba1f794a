#!/usr/bin/env python3
"""Makes the libp2p identity-key vectors of p2p-sync's tests with implementations other than ours.

    /work/main/.venv-interop/bin/python Tests/P2PCryptoTests/Vectors/make_key_vectors.py \
        > Tests/TestSupport/KeyVectors.swift

Runs in the py-libp2p 0.8.1 interop virtualenv (scripts/py-venv). Who makes what:
  * Ed25519, secp256k1 and RSA keys, their serialized PublicKey protobufs, signatures and
    peer IDs: py-libp2p's own key classes (PyNaCl, coincurve, pycryptodome underneath) and
    `ID.from_pubkey`;
  * ECDSA P-256 (py-libp2p cannot sign with ECDSA): pyca/cryptography, the protobuf from
    py-libp2p's crypto_pb2 and the peer ID from py-libp2p's `ID.from_pubkey`;
  * the secp256k1 and ECDSA keys are the libp2p peer-ids spec test-vector keys
    (libp2p/specs peer-ids/peer-ids.md, "Test vectors"); RSA keys come from pycryptodome's
    generator fed by a fixed SHAKE-256 stream, so every run prints the same file.
Signatures are deterministic (RFC 8032, RFC 6979, PKCS#1 v1.5), so the output is stable.
The Noise vectors sign "noise-libp2p-static-key:" followed by the X25519 public key of the
fixed private scalar 0x40 0x41 ... 0x5f, the responder static key of NoiseHandshakeTests.
"""
import hashlib
import sys

import coincurve
from Crypto.Hash import SHA256 as PyCryptoSHA256
import Crypto.PublicKey.RSA as PyCryptoRSA
from Crypto.Signature import pkcs1_15
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from libp2p.crypto.ed25519 import create_new_key_pair as ed25519_key_pair
from libp2p.crypto.keys import KeyPair, KeyType
from libp2p.crypto.pb import crypto_pb2
from libp2p.crypto.rsa import RSAPrivateKey
from libp2p.crypto.secp256k1 import create_new_key_pair as secp256k1_key_pair
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.validators import PUBSUB_SIGNING_PREFIX, signature_validator

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
NOISE_PREFIX = b"noise-libp2p-static-key:"
MESSAGE = b"p2p-sync key vectors: a message signed by another implementation"

# libp2p peer-ids spec test vectors: private keys (PrivateKey protobuf Data) and public keys.
SPEC_SECP256K1_PRIVATE = bytes.fromhex("53dadf1d5a164d6b4acdb15e24aa4c5b1d3461bdbd42abedb0a4404d56ced8fb")
SPEC_SECP256K1_PUBLIC_PROTOBUF = bytes.fromhex("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99")
SPEC_ECDSA_PRIVATE = bytes.fromhex(
    "307702010104203e5b1fe9712e6c314942a750bd67485de3c1efe85b1bfb520ae8f9ae3dfa4a4ca00a06082a8648ce3d030107"
    "a14403420004de3d300fa36ae0e8f5d530899d83abab44abf3161f162a4bc901d8e6ecda020e8b6d5f8da30525e71d6851510c098e"
    "5c47c646a597fb4dcec034e9f77c409e62")
SPEC_ECDSA_PUBLIC_PROTOBUF = bytes.fromhex(
    "0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004de3d300fa36ae0e8f5d530899d83abab44abf316"
    "1f162a4bc901d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c409e62")
SPEC_RSA_PUBLIC_PROTOBUF = bytes.fromhex(
    "080012a60430820222300d06092a864886f70d01010105000382020f003082020a0282020100e1beab071d08200bde24eef00d04"
    "9449b07770ff9910257b2d7d5dda242ce8f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae9880089704a94e5066d594162"
    "ae6ee8892e6ec70701db0a6c445c04778eb3de1293aa1a23c3825b85c6620a2bc3f82f9b0c309bc0ab3aeb1873282bebd3da03c3"
    "3e76c21e9beb172fd44c9e43be32e2c99827033cf8d0f0c606f4579326c930eb4e854395ad941256542c793902185153c474bed1"
    "09d6ff5141ebf9cd256cf58893a37f83729f97e7cb435ec679d2e33901d27bb35aa0d7e20561da08885ef0abbf8e2fb48d6a5487"
    "047a9ecb1ad41fa7ed84f6e3e8ecd5d98b3982d2a901b4454991766da295ab78822add5612a2df83bcee814cf50973e80d7ef381"
    "11b1bd87da2ae92438a2c8cbcc70b31ee319939a3b9c761dbc13b5c086d6b64bf7ae7dacc14622375d92a8ff9af7eb962162bbdd"
    "ebf90acb32adb5e4e4029f1c96019949ecfbfeffd7ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7adbca78eab09b9bc39f7fa"
    "4b93411f4cc175e70c0a083e96bfaefb04a9580b4753c1738a6a760ae1afd851a1a4bdad231cf56e9284d832483df215a46c1c21"
    "bdf0c6cfe951c18f1ee4078c79c13d63edb6e14feaeffabc90ad317e4875fe648101b0864097e998f0ca3025ef9638cd2b0caecd"
    "3770ab54a1d9c6ca959b0f5dcbc90caeefc4135baca6fd475224269bbe1b0203010001")


class SerializedKey:
    """Just enough of py-libp2p's PublicKey for ID.from_pubkey: a serialized protobuf."""

    def __init__(self, serialized):
        self.serialized = serialized

    def serialize(self):
        return self.serialized


def public_key_protobuf(key_type, data):
    return crypto_pb2.PublicKey(key_type=key_type, data=data).SerializeToString()


def peer_id(serialized):
    return ID.from_pubkey(SerializedKey(serialized)).to_base58()


class Stream:
    """A fixed pseudo-random byte stream (SHAKE-256 of a label) for pycryptodome's RSA generator."""

    def __init__(self, label):
        self.label = label
        self.counter = 0

    def __call__(self, n):
        self.counter += 1
        return hashlib.shake_256(b"%s/%d" % (self.label, self.counter)).digest(n)


def der_integers(signature):
    """(r, s) of a DER ECDSA signature, and the inverse: enough DER for a high-S variant."""
    assert signature[0] == 0x30 and signature[2] == 0x02
    r_len = signature[3]
    r = int.from_bytes(signature[4:4 + r_len], "big")
    assert signature[4 + r_len] == 0x02
    s_len = signature[5 + r_len]
    s = int.from_bytes(signature[6 + r_len:6 + r_len + s_len], "big")
    return r, s


def der_signature(r, s):
    def integer(v):
        body = v.to_bytes((v.bit_length() + 8) // 8, "big")  # a leading zero when the top bit is set
        return bytes([0x02, len(body)]) + body
    body = integer(r) + integer(s)
    return bytes([0x30, len(body)]) + body


def noise_static_public():
    scalar = bytes(range(0x40, 0x60))
    return x25519.X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pubsub_message(key_pair, data):
    """A gossipsub message signed the way py-libp2p's Pubsub.publish signs (StrictSign, key attached)."""
    public = key_pair.public_key.serialize()
    msg = rpc_pb2.Message(from_id=ID.from_pubkey(key_pair.public_key).to_bytes(), data=data,
                          seqno=(1).to_bytes(8, "big"), topicIDs=["p2p-sync"])
    signature = key_pair.private_key.sign(PUBSUB_SIGNING_PREFIX.encode() + msg.SerializeToString())
    msg.key = public
    msg.signature = signature
    assert signature_validator(msg), "py-libp2p refuses its own signed message"
    return public, msg.SerializeToString(), signature, peer_id(public)


def main():
    noise_message = NOISE_PREFIX + noise_static_public()
    vectors = []  # (name, key protobuf, message, signature, peer id)

    ed = ed25519_key_pair(seed=bytes([0x22]) * 32)
    ed_pub = ed.public_key.serialize()
    vectors.append(("ed25519", ed_pub, MESSAGE, ed.private_key.sign(MESSAGE), peer_id(ed_pub)))

    k1 = secp256k1_key_pair(SPEC_SECP256K1_PRIVATE)
    k1_pub = k1.public_key.serialize()
    assert k1_pub == SPEC_SECP256K1_PUBLIC_PROTOBUF, "the spec's secp256k1 private key does not give its public key"
    k1_signature = k1.private_key.sign(MESSAGE)
    assert k1.public_key.verify(MESSAGE, k1_signature)
    vectors.append(("secp256k1", k1_pub, MESSAGE, k1_signature, peer_id(k1_pub)))
    # The same signature with s replaced by n - s: valid ECDSA, but not the low-S form
    # libsecp256k1 alone accepts (coincurve refuses it; go's btcec and we accept it).
    r, s = der_integers(k1_signature)
    high_s = der_signature(r, SECP256K1_ORDER - s)
    assert not coincurve.PublicKey(k1_pub[4:]).verify(high_s, MESSAGE)
    vectors.append(("secp256k1HighS", k1_pub, MESSAGE, high_s, peer_id(k1_pub)))

    p256 = serialization.load_der_private_key(SPEC_ECDSA_PRIVATE, password=None)
    p256_der = p256.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    p256_pub = public_key_protobuf(KeyType.ECDSA.value, p256_der)
    assert p256_pub == SPEC_ECDSA_PUBLIC_PROTOBUF, "the spec's ECDSA private key does not give its public key"
    p256_signature = p256.sign(MESSAGE, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    vectors.append(("ecdsa", p256_pub, MESSAGE, p256_signature, peer_id(p256_pub)))

    rsa = RSAPrivateKey(PyCryptoRSA.generate(2048, randfunc=Stream(b"p2p-sync rsa-2048")))
    rsa_pub = rsa.get_public_key().serialize()
    vectors.append(("rsa2048", rsa_pub, MESSAGE, rsa.sign(MESSAGE), peer_id(rsa_pub)))

    # Refused by us: too weak (py-libp2p itself allows it).
    rsa1024 = PyCryptoRSA.generate(1024, randfunc=Stream(b"p2p-sync rsa-1024"))
    rsa1024_pub = public_key_protobuf(KeyType.RSA.value, rsa1024.publickey().export_key("DER"))
    rsa1024_signature = pkcs1_15.new(rsa1024).sign(PyCryptoSHA256.new(MESSAGE))
    vectors.append(("rsa1024", rsa1024_pub, MESSAGE, rsa1024_signature, peer_id(rsa1024_pub)))

    # Refused by us: an ECDSA key on P-384, not P-256.
    p384 = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP384R1())
    p384_der = p384.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    p384_pub = public_key_protobuf(KeyType.ECDSA.value, p384_der)
    vectors.append(("ecdsaP384", p384_pub, MESSAGE, p384.sign(MESSAGE, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)),
                    peer_id(p384_pub)))

    # Identity payloads of a Noise responder whose static key is NoiseHandshakeTests' 0x40... key.
    noise = [
        ("noiseSecp256k1", k1_pub, noise_message, k1.private_key.sign(noise_message), peer_id(k1_pub)),
        ("noiseECDSA", p256_pub, noise_message, p256.sign(noise_message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)),
         peer_id(p256_pub)),
        ("noiseRSA", rsa_pub, noise_message, rsa.sign(noise_message), peer_id(rsa_pub)),
    ]
    # Whole signed pubsub Messages (field `message`), as py-libp2p peers with these keys publish them.
    pubsub = [
        ("pubsubSecp256k1", *pubsub_message(k1, b"hello from a secp256k1 peer")),
        ("pubsubRSA", *pubsub_message(KeyPair(rsa, rsa.get_public_key()), b"hello from an RSA peer")),
    ]
    spec = [
        ("specSecp256k1", SPEC_SECP256K1_PUBLIC_PROTOBUF),
        ("specECDSA", SPEC_ECDSA_PUBLIC_PROTOBUF),
        ("specRSA4096", SPEC_RSA_PUBLIC_PROTOBUF),
    ]

    out = sys.stdout
    out.write("// GENERATED by Tests/P2PCryptoTests/Vectors/make_key_vectors.py with py-libp2p 0.8.1,\n")
    out.write("// coincurve, pycryptodome and pyca/cryptography. Do not edit by hand: run the script again.\n\n")
    out.write("/// libp2p identity-key vectors made by implementations other than ours (see the generator).\n")
    out.write("public enum KeyVectors {\n")
    out.write("    /// A serialized PublicKey protobuf, a message, a signature of it and py-libp2p's peer ID of the key.\n")
    out.write("    public struct Signed: Sendable, CustomStringConvertible {\n")
    out.write("        public let name: String\n        public let publicKey: String\n        public let message: String\n")
    out.write("        public let signature: String\n        public let peerID: String\n")
    out.write("        public var description: String { name }\n\n")
    out.write("        public init(name: String, publicKey: String, message: String, signature: String, peerID: String) {\n")
    out.write("            self.name = name\n            self.publicKey = publicKey\n            self.message = message\n")
    out.write("            self.signature = signature\n            self.peerID = peerID\n        }\n    }\n\n")
    out.write("    /// A key protobuf (libp2p peer-ids spec vector) and py-libp2p's peer ID of it.\n")
    out.write("    public struct KeyAndPeerID: Sendable {\n        public let publicKey: String\n        public let peerID: String\n    }\n\n")
    for name, key, message, signature, pid in vectors + noise + pubsub:
        out.write(f"    public static let {name} = Signed(\n        name: \"{name}\",\n")
        out.write(f"        publicKey: \"{key.hex()}\",\n        message: \"{message.hex()}\",\n")
        out.write(f"        signature: \"{signature.hex()}\",\n        peerID: \"{pid}\")\n\n")
    for name, key in spec:
        out.write(f"    public static let {name} = KeyAndPeerID(\n        publicKey: \"{key.hex()}\",\n")
        out.write(f"        peerID: \"{peer_id(key)}\")\n\n")
    out.write("    /// The signatures that must verify.\n")
    out.write("    public static let valid = [ed25519, secp256k1, secp256k1HighS, ecdsa, rsa2048]\n")
    out.write("}\n")


if __name__ == "__main__":
    main()
