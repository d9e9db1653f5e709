"""The five account languages through the HTTP API: `PATCH /api/v1/account {"language"}` and
registration take zh-TW, en, vi, id and th (and nothing else), and the OpenAPI says so."""

from __future__ import annotations

from typing import get_args

from cardreg_shared.models.common import Language
from cardreg_shared.subjects import ACCOUNT_REGISTER, ACCOUNT_UPDATE

from .conftest import PASSWORD, VALID_TOKEN

AUTH = {"Authorization": f"Bearer {VALID_TOKEN}"}
FIVE = ["zh-TW", "en", "vi", "id", "th"]


async def test_patch_takes_each_of_the_five_codes(replica, registry) -> None:
    for language in FIVE:
        reply = await replica.http.patch(
            "/api/v1/account", json={"language": language}, headers=AUTH
        )
        assert (reply.status_code, reply.json()["language"]) == (200, language)
    assert [r.language for r in registry.received[ACCOUNT_UPDATE.name]] == FIVE
    for wrong in ("vi-VN", "VI", "in", "zh", "zh-CN", "ms"):
        reply = await replica.http.patch("/api/v1/account", json={"language": wrong}, headers=AUTH)
        assert reply.status_code == 400, wrong
    assert len(registry.received[ACCOUNT_UPDATE.name]) == len(FIVE)


async def test_a_registration_in_a_foreign_residents_language(replica, registry, person) -> None:
    for language in ("vi", "id", "th"):
        card = await replica.card_read(person)
        body = {"card": card, **person.proof(), "password": PASSWORD, "language": language}
        assert (await replica.http.post("/api/v1/registrations", json=body)).status_code == 201
    assert [r.language for r in registry.received[ACCOUNT_REGISTER.name]] == ["vi", "id", "th"]


async def test_the_openapi_document_lists_the_five_codes(replica) -> None:
    assert list(get_args(Language)) == FIVE
    doc = (await replica.http.get("/openapi.json")).json()
    found = []
    for name, schema in doc["components"]["schemas"].items():
        language = schema.get("properties", {}).get("language")
        if language is None:
            continue
        options = language.get("anyOf", [language])
        enums = [option["enum"] for option in options if "enum" in option]
        found.append(name)
        assert enums == [FIVE], name
    assert found  # the registration body, the settings patch and the profile at least
