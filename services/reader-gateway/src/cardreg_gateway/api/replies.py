"""Replies on the hot routes, serialised once.

A route that returns a model has FastAPI dump it, validate the dump against the response model
and serialise it again. A reply that is already a validated model (built here, or parsed from
the registry's answer) needs none of that: it is written out once. The route still declares
its `response_model`, so the OpenAPI document is unchanged.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_reply(model: BaseModel, status_code: int) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
