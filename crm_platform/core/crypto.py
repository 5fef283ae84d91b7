"""Encryption at rest for ``encrypted_text`` fields: AES-256-GCM (authenticated).

The key comes from ``CRM_ENCRYPTION_KEY`` (32 bytes, urlsafe base64). The
embedded default generates one in the instance folder the first time and says so.
Ciphertexts carry a version prefix so keys can be rotated later.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

from .settings import Settings

PREFIX = "v1:"
KEY_FILE = "encryption.key"
log = logging.getLogger(__name__)


class FieldCipher:
    """Encrypts and decrypts field values with one AES-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the encryption key must be 32 bytes (urlsafe base64 of 32 bytes)")
        # imported with the first cipher (an org with an encrypted field), not by every
        # API worker: cryptography is ~7 MB of a worker's memory
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, context: str = "") -> str:
        """Ciphertext as text; ``context`` (e.g. ``object.field``) is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, ciphertext: str, context: str = "") -> str:
        if not ciphertext.startswith(PREFIX):
            raise ValueError("not a ciphertext of this platform")
        from cryptography.exceptions import InvalidTag  # loaded with AESGCM already

        raw = base64.urlsafe_b64decode(ciphertext[len(PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise ValueError("ciphertext was tampered with or the key is wrong") from exc


def load_cipher(settings: Settings) -> FieldCipher:
    """The org's cipher: from ``CRM_ENCRYPTION_KEY``, else a key kept in the instance folder."""
    if settings.encryption_key:
        return FieldCipher(_decode(settings.encryption_key))
    path = Path(settings.instance_path) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker created it first: use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
            log.warning(
                "generated an encryption key in %s: back it up, or set CRM_ENCRYPTION_KEY", path
            )
    return FieldCipher(_decode(path.read_text().strip()))


SECRET_KEY_FILE = "secret.key"


def load_secret_key(settings: Settings) -> str:
    """The key that signs session cookies: ``CRM_SECRET_KEY``, else one kept in the instance
    folder, so every worker (and every restart) signs and reads the same cookies."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_path) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("CRM_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes") from exc
