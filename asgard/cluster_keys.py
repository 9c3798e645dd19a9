"""The keys that encrypt registered clusters' secrets at rest.

A cluster registered through the API keeps its credentials (a Kubernetes token, a
Marathon password) in the database, which backups, replicas and whoever reads the
database see. They are kept encrypted there with keys Asgard is given and the database
never holds: ``ASGARD_CLUSTER_KEYS``, Fernet keys separated by commas. The first key
encrypts; every key decrypts, so a key is rotated by putting a new one first, running
``asgard clusters rotate-key`` (every secret encrypted again with the first key), then
dropping the old one (``docs/security.rst``).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["ClusterKeys", "KeysMissing", "UnreadableSecrets", "new_key"]


class KeysMissing(Exception):
    """No ``ASGARD_CLUSTER_KEYS``: secrets can be neither stored nor read."""


class UnreadableSecrets(Exception):
    """Secrets encrypted with a key Asgard is not given (or not Fernet at all)."""


def new_key() -> str:
    """A fresh key, for ``ASGARD_CLUSTER_KEYS``."""
    return Fernet.generate_key().decode()


class ClusterKeys:
    def __init__(self, keys: str | None) -> None:
        """``keys``: Fernet keys separated by commas, the first encrypting; None or empty:
        no key (entries without secrets still work)."""
        parsed = [k.strip() for k in (keys or "").split(",") if k.strip()]
        try:
            self._fernet = MultiFernet([Fernet(k) for k in parsed]) if parsed else None
        except ValueError:
            raise ValueError(
                "ASGARD_CLUSTER_KEYS must be Fernet keys (32 url-safe base64-encoded bytes) "
                "separated by commas"
            ) from None

    @property
    def available(self) -> bool:
        return self._fernet is not None

    def _need(self) -> MultiFernet:
        if self._fernet is None:
            raise KeysMissing(
                "ASGARD_CLUSTER_KEYS is not set: a cluster's secrets are stored only encrypted "
                "with a key Asgard is given"
            )
        return self._fernet

    def encrypt(self, secrets: dict[str, Any]) -> str:
        return self._need().encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            found = json.loads(self._need().decrypt(token.encode()))
        except InvalidToken:
            raise UnreadableSecrets(
                "the secrets were encrypted with a key not in ASGARD_CLUSTER_KEYS"
            ) from None
        if not isinstance(found, dict):
            raise UnreadableSecrets("the secrets are not an object")
        return found

    def rotate(self, token: str) -> str:
        """The same secrets, encrypted again with the first key."""
        try:
            return self._need().rotate(token.encode()).decode()
        except InvalidToken:
            raise UnreadableSecrets(
                "the secrets were encrypted with a key not in ASGARD_CLUSTER_KEYS"
            ) from None
