"""The gateway's JetStream KV buckets: created at start-up by whichever replica comes first."""

from __future__ import annotations

import logging

from nats.aio.client import Client
from nats.js.api import KeyValueConfig
from nats.js.errors import BadRequestError
from nats.js.kv import KeyValue

log = logging.getLogger("cardreg.gateway.buckets")


async def open_bucket(nc: Client, config: KeyValueConfig) -> KeyValue:
    """Create the bucket, or open it as it is."""
    js = nc.jetstream()
    try:
        return await js.create_key_value(config)
    except BadRequestError:
        # Exists with another configuration (set by an older or differently configured
        # replica): what is in it stays readable, so use it rather than refuse to start.
        log.warning("bucket %s exists with another configuration; using it", config.bucket)
        return await js.key_value(config.bucket)
