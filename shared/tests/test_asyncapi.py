"""The committed AsyncAPI document is what the code generates, and covers every subject."""

from __future__ import annotations

import json

from cardreg_shared import asyncapi
from cardreg_shared.subjects import EVENTS, MAIL_REQUESTS, REQUESTS


def test_committed_document_matches_code():
    assert asyncapi.DOCUMENT.read_text(encoding="utf-8") == asyncapi.render(), (
        "shared/asyncapi.json is stale: run `cardreg asyncapi --write`"
    )


def test_every_subject_has_request_reply_and_error():
    doc = json.loads(asyncapi.render())
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == (
        {s.name for s in REQUESTS} | {e.name for e in EVENTS} | {m.name for m in MAIL_REQUESTS}
    )
    schemas = doc["components"]["schemas"]
    for subject in REQUESTS:
        channel = doc["channels"][subject.name.replace(".", "_")]
        assert set(channel["messages"]) == {"request", "reply", "error"}
        assert subject.request.__name__ in schemas and subject.reply.__name__ in schemas


def test_every_reference_resolves():
    doc = json.loads(asyncapi.render())

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(doc):
        target = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
