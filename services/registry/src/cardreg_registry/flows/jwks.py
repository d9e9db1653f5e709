"""The public keys that verify our access tokens, for relying services: every published key."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import JwksReply

from .ports import Clock, Tokens


@dataclass(frozen=True)
class PublishKeys:
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: Empty) -> JwksReply:
        return JwksReply(keys=self.tokens.jwks(self.clock()))
