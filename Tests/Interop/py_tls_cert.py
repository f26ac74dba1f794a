"""libp2p TLS certificates checked by an independent implementation, for LibP2PTLSTests.

    py_tls_cert.py verify HEX_DER [EXPECTED_PEER_ID]
        Parses a certificate with pyca/cryptography, checks it with py-libp2p 0.8.1's
        PeerAuthenticator.verify_peer_certificate, and also checks what py does not: the
        self-signature, and the extension as strict DER with the Ed25519 identity signature
        verified by cryptography (py-libp2p's own parser also accepts non-DER encodings).
        Prints one JSON object; exits 1 with {"error": ...} when anything is refused.

    py_tls_cert.py generate
        A secp256k1 identity (py-libp2p's default key type) and a certificate from
        py-libp2p's CertificateGenerator; prints {"der": hex, "peer_id": base58}.
"""
import json
import sys
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ObjectIdentifier

from libp2p.peer.id import ID
from libp2p.transport.quic.security import CertificateGenerator, PeerAuthenticator

OID = ObjectIdentifier("1.3.6.1.4.1.53594.1.1")
PREFIX = b"libp2p-tls-handshake:"


def der_element(data, offset, tag):
    """One strict-DER TLV with `tag` at `offset`: (contents, next offset)."""
    if data[offset] != tag:
        raise ValueError(f"tag 0x{data[offset]:02x} at {offset}, expected 0x{tag:02x}")
    first = data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 3 or data[offset] == 0:
            raise ValueError("length not in DER form")
        length = int.from_bytes(data[offset:offset + count], "big")
        if length < 0x80:
            raise ValueError("long-form length below 128")
        offset += count
    if offset + length > len(data):
        raise ValueError("truncated")
    return data[offset:offset + length], offset + length


def strict_signed_key(value):
    body, end = der_element(value, 0, 0x30)
    if end != len(value):
        raise ValueError("bytes after SignedKey")
    key, offset = der_element(body, 0, 0x04)
    signature, offset = der_element(body, offset, 0x04)
    if offset != len(body):
        raise ValueError("more than two fields in SignedKey")
    return key, signature


def verify(hex_der, expected):
    cert = x509.load_der_x509_certificate(bytes.fromhex(hex_der))
    expected_id = ID.from_base58(expected) if expected else None
    peer_id = PeerAuthenticator().verify_peer_certificate(cert, expected_id)
    cert.verify_directly_issued_by(cert)  # self-signature, raises InvalidSignature
    extension = cert.extensions.get_extension_for_oid(OID)
    key, signature = strict_signed_key(extension.value.value)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    independent = None
    if key[:4] == b"\x08\x01\x12\x20" and len(key) == 36:  # Ed25519 PublicKey protobuf
        ed25519.Ed25519PublicKey.from_public_bytes(key[4:]).verify(signature, PREFIX + spki)
        independent = "ed25519"
    public_key = cert.public_key()
    return {
        "peer_id": peer_id.to_base58(),
        "version": cert.version.name,
        "extension_critical": extension.critical,
        "extension_count": len(cert.extensions),
        "curve": public_key.curve.name if isinstance(public_key, ec.EllipticCurvePublicKey) else None,
        "signature_hash": cert.signature_hash_algorithm.name,
        "not_before": int(cert.not_valid_before_utc.timestamp()),
        "not_after": int(cert.not_valid_after_utc.timestamp()),
        "now": int(datetime.now(timezone.utc).timestamp()),
        "serial_bits": cert.serial_number.bit_length(),
        "independent_signature_check": independent,
    }


def generate():
    from libp2p.crypto.secp256k1 import create_new_key_pair
    pair = create_new_key_pair()
    peer_id = ID.from_pubkey(pair.public_key)
    config = CertificateGenerator().generate_certificate(pair.private_key, peer_id)
    der = config.certificate.public_bytes(serialization.Encoding.DER)
    return {"der": der.hex(), "peer_id": peer_id.to_base58()}


def main():
    try:
        if sys.argv[1] == "verify":
            result = verify(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
        elif sys.argv[1] == "generate":
            result = generate()
        else:
            raise SystemExit(f"unknown mode {sys.argv[1]}")
    except Exception as error:  # noqa: BLE001 - every refusal is reported the same way
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
