"""The key set as one registry process holds it, and the changes made to it in storage.

Every process reads the same set from storage (domain/keys.py), so replicas sign and verify
alike. A process learns of a rotation (`cardreg keys rotate`, run while it serves) in two ways:
it reloads the set every `reload_seconds`, and a token whose `kid` it does not know makes it
reload at once (at most once a second, so made-up kids cannot turn into database load). A
retired key stays published for `grace`: the token lifetime plus that reload interval plus a
minute of clock skew, the longest any process may still have signed with it.

A data directory from before the key set holds `registry-signing-key.pem`: it becomes the
first active key, with the kid it always had, so the tokens it signed stay valid.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from cardreg_shared.logs import stack_of
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.models.registry import Jwk
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPublicKey,
    generate_private_key,
)

from ..domain.keys import EDDSA, RS256, KeySet, SigningKey, kid_of, rsa_thumbprint
from ..flows.ports import Clock, Conflict, Storage

log = logging.getLogger("cardreg.registry.keys")

UNKNOWN_KID_RELOAD_GAP_SECONDS = 1.0
SKEW = timedelta(minutes=1)


def publication_grace(token_ttl: timedelta, reload_seconds: float) -> timedelta:
    return token_ttl + timedelta(seconds=reload_seconds) + SKEW


RSA_BITS = 2048

PublicKey = Ed25519PublicKey | RSAPublicKey


def new_signing_key(now: datetime, alg: str = EDDSA) -> SigningKey:
    if alg == RS256:
        return _rsa_signing_key(generate_private_key(public_exponent=65537, key_size=RSA_BITS), now)
    return _signing_key(Ed25519PrivateKey.generate(), now)


def _int_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _rsa_members(public: RSAPublicKey) -> tuple[str, str]:
    numbers = public.public_numbers()
    return _int_b64(numbers.n), _int_b64(numbers.e)


def _rsa_signing_key(private: RSAPrivateKey, now: datetime) -> SigningKey:
    public = private.public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs8 = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningKey(
        kid=rsa_thumbprint(*_rsa_members(public)),
        public_key=der,
        private_key=pkcs8,
        created_at=now,
        alg=RS256,
    )


def _public_key(key: SigningKey) -> PublicKey:
    if key.alg == RS256:
        loaded = serialization.load_der_public_key(key.public_key)
        if not isinstance(loaded, RSAPublicKey):
            raise TypeError(f"key {key.kid} is not an RSA key")
        return loaded
    return Ed25519PublicKey.from_public_bytes(key.public_key)


def _signing_key(private: Ed25519PrivateKey, now: datetime) -> SigningKey:
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return SigningKey(kid=kid_of(public), public_key=public, private_key=seed, created_at=now)


def load_legacy_pem(path: Path) -> Ed25519PrivateKey:
    """The single signing key of a data directory from before the key set."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{path.name} does not hold an Ed25519 private key")
    return key


def public_jwk(key: SigningKey) -> Jwk:
    if key.alg == RS256:
        public = _public_key(key)
        assert isinstance(public, RSAPublicKey)
        n, e = _rsa_members(public)
        return Jwk(kty="RSA", alg="RS256", n=n, e=e, kid=key.kid)
    return Jwk(kty="OKP", crv="Ed25519", x=b64url_encode(key.public_key), kid=key.kid)


async def ensure_active_key(storage: Storage, now: datetime, legacy_pem: Path) -> None:
    """Give the key set its first active key of each algorithm when it has none: for EdDSA
    the legacy PEM key if the data directory has one, else a new key. Replicas starting
    together agree on one."""
    await _ensure_eddsa(storage, now, legacy_pem)
    for _ in range(5):
        async with storage.unit_of_work() as uow:
            if (await uow.keys.load()).active_for(RS256) is not None:
                return
            uow.keys.add(new_signing_key(now, RS256))
            try:
                await uow.commit()
            except Conflict:
                continue
        log.info("key set started its RS256 key")
        return
    raise RuntimeError("could not settle the first RS256 key")


async def _ensure_eddsa(storage: Storage, now: datetime, legacy_pem: Path) -> None:
    for _ in range(5):
        async with storage.unit_of_work() as uow:
            keys = await uow.keys.load()
            if keys.active is not None:
                return
            legacy = _signing_key(load_legacy_pem(legacy_pem), now) if legacy_pem.exists() else None
            if legacy is not None and keys.find(legacy.kid) is not None:
                legacy = None  # imported before, and rotated away since
            uow.keys.add(legacy or new_signing_key(now))
            try:
                await uow.commit()
            except Conflict:
                continue  # another replica made the first key; use that one
        log.info("key set started with %s", "the signing key file" if legacy else "a new key")
        return
    raise RuntimeError("could not settle the first signing key")


async def rotate(
    storage: Storage, now: datetime, alg: str = EDDSA
) -> tuple[SigningKey | None, SigningKey]:
    """Retire the active key of `alg` and make a new one active: (retired, new)."""
    return (await rotate_set(storage, now, (alg,)))[0]


async def rotate_set(
    storage: Storage, now: datetime, algs: Sequence[str]
) -> list[tuple[SigningKey | None, SigningKey]]:
    """Rotate the active key of every one of `algs` in one transaction: (retired, new) each.
    One transaction, so a registry reloading meanwhile sees the whole set rotated or none of
    it, never a new EdDSA key beside the old RSA one."""
    for _ in range(5):
        async with storage.unit_of_work() as uow:
            loaded = await uow.keys.load()
            pairs = []
            for alg in algs:
                active, new = loaded.active_for(alg), new_signing_key(now, alg)
                if active is None:
                    uow.keys.add(new)
                else:
                    uow.keys.rotate(active, new, now)
                pairs.append((active, new))
            try:
                await uow.commit()
            except Conflict:
                continue  # rotated by someone else meanwhile: rotate from theirs
            return pairs
    raise RuntimeError("the key set kept changing; try again")


class KeyRing:
    def __init__(
        self,
        load: Callable[[], Awaitable[KeySet]],
        clock: Clock,
        *,
        grace: timedelta,
        reload_seconds: float,
    ) -> None:
        self._load = load
        self._clock = clock
        self.grace = grace
        self._reload_seconds = reload_seconds
        self._keys = KeySet()
        self._signing: tuple[str, Ed25519PrivateKey] | None = None
        self._rsa: tuple[str, RSAPrivateKey] | None = None
        self._public: dict[str, PublicKey] = {}
        self._last_reload = float("-inf")
        self._reloading: asyncio.Task | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Load the set (it must have an active key by now), then keep it fresh."""
        await self.reload()
        if self._signing is None:
            raise RuntimeError("the key set has no active key")
        self._task = asyncio.create_task(self._keep_fresh(), name="key-ring")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    @property
    def signing(self) -> tuple[str, Ed25519PrivateKey]:
        """(kid, key) of the active key as last loaded."""
        if self._signing is None:
            raise RuntimeError("the key ring was not started")
        return self._signing

    @property
    def rsa_signing(self) -> tuple[str, RSAPrivateKey]:
        """(kid, key) of the active RS256 key as last loaded (id_tokens for clients that ask)."""
        if self._rsa is None:
            raise RuntimeError("the key set has no active RS256 key")
        return self._rsa

    async def verification_key(self, kid: str, alg: str = EDDSA) -> PublicKey | None:
        """The published key of `alg` named `kid`; an unknown kid reloads the set first
        (rate-limited)."""
        if kid not in self._public:
            await self._reload_for_unknown_kid()
        key = self._keys.find(kid)
        if key is None or key.alg != alg or not key.published_at(self._clock(), self.grace):
            return None
        return self._public.get(kid)

    def jwks(self, now: datetime) -> list[Jwk]:
        return [public_jwk(key) for key in self._keys.published(now, self.grace)]

    async def reload(self) -> None:
        keys = await self._load()
        loop = asyncio.get_running_loop()
        self._last_reload = loop.time()
        public = {key.kid: self._public.get(key.kid) or _public_key(key) for key in keys.keys}
        active, signing = keys.active, self._signing
        changed = signing is None or active is None or signing[0] != active.kid
        if active is not None and active.private_key is not None and changed:
            if signing is not None:
                log.info("signing with the new active key %s", active.kid)
            signing = (active.kid, Ed25519PrivateKey.from_private_bytes(active.private_key))
        rsa, current = keys.active_for(RS256), self._rsa
        if (
            rsa is not None
            and rsa.private_key is not None
            and (current is None or current[0] != rsa.kid)
        ):
            loaded = serialization.load_der_private_key(rsa.private_key, password=None)
            if isinstance(loaded, RSAPrivateKey):
                current = (rsa.kid, loaded)
        self._keys, self._public, self._signing, self._rsa = keys, public, signing, current

    async def _reload_for_unknown_kid(self) -> None:
        loop = asyncio.get_running_loop()
        if self._reloading is None:
            if loop.time() - self._last_reload < UNKNOWN_KID_RELOAD_GAP_SECONDS:
                return
            self._reloading = asyncio.create_task(self.reload())
        reloading = self._reloading
        try:
            await asyncio.shield(reloading)
        except Exception as exc:  # noqa: BLE001 - logged; verifying goes on with what is known
            log.warning("key set reload failed: %s", type(exc).__name__)
        finally:
            if reloading.done():
                self._reloading = None

    async def _keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(self._reload_seconds)
            try:
                await self.reload()
            # The next round tries again; until then the set as last loaded serves.
            except Exception as exc:  # noqa: BLE001 - logged with its stack
                log.error("key set reload failed: %s", stack_of(exc))
