"""A local HTTPS webhook receiver for tests: its own CA and certificate (made here with
``cryptography``), a signature check written independently of the sender's code, and
answers planned by the test (503, 503, 200...) to make deliveries fail on purpose."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "hooks.test"  # the certificate's name; tests resolve it to 127.0.0.1 themselves
HANG = 0  # a planned "answer": wait past the sender's read timeout, then answer 200
HANG_SECONDS = 3.0


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder: Path, names: tuple[str, ...] = (HOST,)) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for ``names``: (ca.pem, cert.pem, key.pem)."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("crm test CA"))
        .issuer_name(_name("crm test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class Delivery:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server answers and what it saw."""

    secret: str
    answers: deque[int] = field(default_factory=deque)  # planned statuses; then 200
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = 0

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """The receiver's own check: HMAC-SHA256 of ``timestamp.body``, constant time."""
        stamp = headers.get("x-crm-timestamp", "")
        sent = headers.get("x-crm-signature", "")
        mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        return bool(stamp) and hmac.compare_digest(sent, "sha256=" + mac.hexdigest())

    def answer_for(self, signature_ok: bool) -> int:
        if not signature_ok:
            return 401
        return self.answers.popleft() if self.answers else 200

    @property
    def delivered(self) -> list[Delivery]:
        """The deliveries the receiver accepted (2xx)."""
        return [d for d in self.deliveries if 200 <= d.status < 300]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = receiver.verify(headers, body)
            status = receiver.answer_for(ok)
            if status == HANG:
                time.sleep(HANG_SECONDS)
                status = 200
            receiver.deliveries.append(Delivery(self.path, headers, body, ok, status))
            text = b"missing field: erp_id" if status == 400 else b"{}"
            self.send_response(status)
            if status in {301, 302}:
                self.send_header("Location", "https://elsewhere.test/")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: object) -> None:  # quiet in test output
            pass

    return Handler


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class ReceiverServer:
    """A threaded HTTPS server on a loopback address (a random port) serving one
    :class:`Receiver`."""

    def __init__(self, receiver: Receiver, cert: Path, key: Path, address: str = "127.0.0.1"):
        self.receiver = receiver
        server_class = _IPv6Server if ":" in address else ThreadingHTTPServer
        self.server = server_class((address, 0), _handler(receiver))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        receiver.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
