"""Per-tenant RSA signing keys.

Each tenant signs its ID tokens with its own RSA 2048 key. Keys are created
lazily (the first time a tenant needs one) so that importing the app is cheap,
and are optionally persisted as private JWKs in ``IDP_KEYS_DIR`` so a restarted
simulator keeps publishing the same ``kid``.

A second, *rogue* key per tenant is used by the ``sign_with_wrong_key`` knob. It
carries the same ``kid`` as the published key, so a relying party finds "the"
key in the JWKS and must reject the token on the signature check itself.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from joserfc.jwk import KeyParameters, RSAKey

ALGORITHM = "RS256"


def _generate(kid: str | None = None) -> RSAKey:
    parameters: KeyParameters = {"use": "sig", "alg": ALGORITHM}
    if kid:
        parameters["kid"] = kid
    key = RSAKey.generate_key(2048, parameters=parameters)
    # Without an explicit kid, use the RFC 7638 thumbprint.
    key.ensure_kid()
    return key


class KeyStore:
    """Lazily creates, caches and (optionally) persists the tenant keys."""

    def __init__(self, keys_dir: Path | None = None) -> None:
        self._keys_dir = keys_dir
        self._signing: dict[str, RSAKey] = {}
        self._rogue: dict[str, RSAKey] = {}
        self._lock = threading.Lock()

    def signing_key(self, tenant: str) -> RSAKey:
        """The private key whose public half is published in the tenant's JWKS."""
        key = self._signing.get(tenant)
        if key is None:
            with self._lock:
                key = self._signing.get(tenant)
                if key is None:
                    key = self._load_or_create(tenant)
                    self._signing[tenant] = key
        return key

    def rogue_key(self, tenant: str) -> RSAKey:
        """A key that is never published, but claims the published ``kid``."""
        key = self._rogue.get(tenant)
        if key is None:
            kid = self.signing_key(tenant).kid
            with self._lock:
                key = self._rogue.get(tenant)
                if key is None:
                    key = _generate(kid)
                    self._rogue[tenant] = key
        return key

    def jwks(self, tenant: str) -> dict[str, list[dict[str, object]]]:
        """The public JWK Set of one tenant."""
        public = self.signing_key(tenant).as_dict(private=False)
        return {"keys": [dict(public)]}

    def _load_or_create(self, tenant: str) -> RSAKey:
        if self._keys_dir is None:
            return _generate()
        path = self._keys_dir / f"{tenant}.jwk.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            key = RSAKey.import_key(data)
            key.ensure_kid()
            return key
        key = _generate()
        self._keys_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(key.as_dict(private=True), fh, indent=2)
        os.replace(tmp, path)
        return key
