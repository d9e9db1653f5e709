"""The public keys that verify our access tokens, for relying services."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import JwksReply

from .ports import Tokens


@dataclass(frozen=True)
class PublishKeys:
    tokens: Tokens

    async def __call__(self, request: Empty) -> JwksReply:
        return JwksReply(keys=[self.tokens.jwk])
