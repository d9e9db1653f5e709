"""The token endpoint's rate limit: token buckets per caller, and the 429 the endpoint answers
before the registry is asked."""

from __future__ import annotations

import base64

from cardreg_gateway.domain.rate_limits import TokenBuckets
from cardreg_shared.models.oidc import OidcEndpointReply, OidcEndpointRequest
from cardreg_shared.subjects import OIDC_ENDPOINT
from cardreg_testkit.peers import scripted_peer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_and_each_key_apart() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [None, None, None]
    assert buckets.take("a") == 0.5
    assert buckets.take("b") is None  # another caller is not held up
    clock.now = 0.5
    assert buckets.take("a") is None
    assert buckets.take("a") == 0.5
    clock.now = 100
    assert [buckets.take("a") for _ in range(3)] == [None, None, None]  # never above the burst
    assert buckets.take("a") is not None


def test_idle_keys_are_forgotten_beyond_the_bound() -> None:
    buckets = TokenBuckets(rate=1, burst=1, clock=Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        assert buckets.take(key) is None
    assert buckets.take("a") is None  # forgotten, so full again
    assert buckets.take("c") == 1.0


async def test_the_token_endpoint_answers_429_before_asking_the_registry(nats_url, launch) -> None:
    asked: list[OidcEndpointRequest] = []

    async def endpoint(request: OidcEndpointRequest) -> OidcEndpointReply:
        asked.append(request)
        return OidcEndpointReply(status=400, headers=[], body='{"error": "invalid_grant"}')

    async with scripted_peer(nats_url, "registry", {OIDC_ENDPOINT: endpoint}):
        replica = await launch(oidc_token_rate_per_second=0.01, oidc_token_burst=2)
        basic = {"Authorization": "Basic " + base64.b64encode(b"passbook:secret").decode()}
        form = {"grant_type": "authorization_code", "code": "x"}
        replies = [
            await replica.http.post("/oauth2/token", data=form, headers=basic) for _ in range(3)
        ]
        assert [r.status_code for r in replies] == [400, 400, 429]
        assert replies[2].json()["error"] == "temporarily_unavailable"
        assert int(replies[2].headers["retry-after"]) >= 1
        assert len(asked) == 2
        # Another client is its own caller.
        other = await replica.http.post("/oauth2/token", data={**form, "client_id": "tax"})
        assert other.status_code == 400 and len(asked) == 3
