"""The AsyncAPI 3.0 document of the bus, generated from `subjects.py` and the models.

`python -m cardreg_shared.asyncapi --write` refreshes the committed `shared/asyncapi.json`;
a test fails when the code and the committed document differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .models.common import ErrorReply
from .subjects import EVENTS, MAIL_REQUESTS, REQUESTS, STREAMS

VERSION = "0.1.0"
DOCUMENT = Path(__file__).resolve().parents[2] / "asyncapi.json"


def _channel_id(address: str) -> str:
    return address.replace(".", "_")


def _message(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "name": model.__name__,
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
    }


def build() -> dict[str, Any]:
    requests = {s.request for s in REQUESTS}
    replies = (
        {s.reply for s in REQUESTS}
        | {ErrorReply}
        | {e.payload for e in EVENTS}
        | {m.payload for m in MAIL_REQUESTS}
    )
    Mode = Literal["validation", "serialization"]
    inputs: list[tuple[type[BaseModel], Mode]] = [
        (m, "validation") for m in sorted(requests, key=lambda m: m.__name__)
    ]
    outputs: list[tuple[type[BaseModel], Mode]] = [
        (m, "serialization") for m in sorted(replies - requests, key=lambda m: m.__name__)
    ]
    _, schemas = models_json_schema(inputs + outputs, ref_template="#/components/schemas/{model}")
    messages = {
        m.__name__: _message(m) for m in sorted(requests | replies, key=lambda m: m.__name__)
    }

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for subject in REQUESTS:
        cid = _channel_id(subject.name)
        names = {"request": subject.request.__name__, "reply": subject.reply.__name__}
        channels[cid] = {
            "address": subject.name,
            "description": subject.summary,
            "messages": {
                **{k: {"$ref": f"#/components/messages/{v}"} for k, v in names.items()},
                "error": {"$ref": "#/components/messages/ErrorReply"},
            },
            "bindings": {"nats": {"queue": subject.owner}},
        }
        operations[cid] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": subject.summary,
            "x-owner": subject.owner,
            "messages": [{"$ref": f"#/channels/{cid}/messages/request"}],
            "reply": {
                "address": {"location": "$message.header#/replyTo"},
                "messages": [
                    {"$ref": f"#/channels/{cid}/messages/reply"},
                    {"$ref": f"#/channels/{cid}/messages/error"},
                ],
            },
        }
    for event in EVENTS:
        cid = _channel_id(event.name)
        channels[cid] = {
            "address": event.name,
            "description": f"{event.summary} JetStream stream {event.stream}.",
            "messages": {"event": {"$ref": f"#/components/messages/{event.payload.__name__}"}},
        }
        operations[cid] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": event.summary,
            "x-owner": event.owner,
            "messages": [{"$ref": f"#/channels/{cid}/messages/event"}],
        }
    for mail in MAIL_REQUESTS:
        cid = _channel_id(mail.name)
        channels[cid] = {
            "address": mail.name,
            "description": f"{mail.summary} JetStream stream {mail.stream}; the mailer sends "
            "each request_id at most once, and moves one it gives up on to deadletter.<address>.",
            "messages": {"mail": {"$ref": f"#/components/messages/{mail.payload.__name__}"}},
        }
        for action, who in (("send", mail.publisher), ("receive", mail.consumer)):
            operations[f"{cid}_{action}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": mail.summary,
                "x-owner": who,
                "messages": [{"$ref": f"#/channels/{cid}/messages/mail"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "cardreg bus",
            "version": VERSION,
            "description": (
                "Requests are `<owner>.<aggregate>.<action>`, served by the owner's queue group; a "
                "failed request is answered with an ErrorReply and the `Nats-Service-Error-Code` "
                "header. Events are `evt.<owner>.<aggregate>.<past-tense>` on JetStream streams: "
                + ", ".join(f"{s.name} ({', '.join(s.subjects)})" for s in STREAMS)
                + "."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas["$defs"]},
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cardreg asyncapi", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT.name}")
    parser.add_argument("--check", action="store_true", help="exit 1 when the document is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOCUMENT.write_text(text, encoding="utf-8")
    elif args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT} is stale: run `cardreg asyncapi --write`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
