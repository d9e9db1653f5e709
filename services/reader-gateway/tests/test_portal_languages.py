"""The portal's five languages as the gateway serves them: the page in the language `?lang=`
names or `Accept-Language` prefers, its switcher, the texts as JSON compiled from the portal
catalogue, and a text for every key the portal's code names."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import get_args

import pytest
from cardreg_gateway.adapters.catalogue import load_catalogue
from cardreg_gateway.api.portal import PORTAL_DIR, TEXTS_PREFIX
from cardreg_gateway.domain.languages import negotiate, preferred
from cardreg_shared.errors import ErrorCode
from cardreg_shared.models.common import AccountStatus, Channel, Language, PersonKind

from .test_portal_api import PAGE_CSP

CATALOGUE = load_catalogue()
FIVE = ("zh-TW", "en", "vi", "id", "th")
NAMES = {
    "zh-TW": "中文",
    "en": "English",
    "vi": "Tiếng Việt",
    "id": "Bahasa Indonesia",
    "th": "ไทย",
}


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-TW"),
        ("", "zh-TW"),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("id-ID", "id"),
        ("in-ID,en;q=0.5", "id"),  # the old ISO code some Android and Java clients send
        ("th", "th"),
        ("TH-th", "th"),
        ("en-GB,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9", "zh-TW"),  # the portal's only Chinese
        ("zh-Hant-TW", "zh-TW"),
        ("fr-FR,th;q=0.4,vi;q=0.3", "th"),  # the first one we have, by weight
        ("vi;q=0.2,id;q=0.8", "id"),
        ("vi;q=0,en", "en"),  # q=0: not acceptable
        ("*", "zh-TW"),
        ("de, fr;q=0.8", "zh-TW"),
        ("vi;q=abc,th", "th"),
        ("x" * 2000, "zh-TW"),
        ("vi;q=2,th;q=0.5", "th"),
        (";;,,en", "en"),
    ],
)
def test_accept_language_picks_the_first_language_we_have(header, language):
    assert negotiate(header, FIVE) == language


def test_preferred_orders_by_weight_then_by_position():
    assert preferred("a;q=0.5, b, c;q=0.5, d;q=0.9") == ["b", "d", "a", "c"]


class Page(HTMLParser):
    """What the tests look at in a served page: <html lang>, <title>, the switcher's links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.lang = None
        self.title = ""
        self.switcher: list[dict] = []
        self._in_title = False
        self._link: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "title":
            self._in_title = True
        if tag == "a" and "data-language" in attributes:
            self._link = {**attributes, "text": ""}
            self.switcher.append(self._link)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "a":
            self._link = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._link is not None:
            self._link["text"] += data


async def page(replica, path="/", **headers) -> tuple:
    reply = await replica.http.get(path, headers=headers)
    assert reply.status_code == 200
    return reply, Page(reply.text)


@pytest.mark.parametrize("language", FIVE)
async def test_the_page_comes_in_the_browsers_language(replica, language):
    header = {"zh-TW": "zh-TW,zh;q=0.9", "en": "en-US", "vi": "vi-VN", "id": "id", "th": "th-TH"}
    reply, served = await page(replica, "/register", **{"Accept-Language": header[language]})
    assert served.lang == language
    assert served.title == CATALOGUE.text(language, "site.name")
    for key in ("skip", "footer.text", "page.noscript", "page.load_failed", "language.legend"):
        assert CATALOGUE.text(language, key).replace('"', "&quot;") in reply.text, key
    assert f'href="{TEXTS_PREFIX}/{language}.json"' in reply.text  # preloaded
    assert reply.headers["vary"] == "Accept-Language"
    assert reply.headers["content-security-policy"] == PAGE_CSP
    assert "{{" not in reply.text


async def test_the_switcher_names_every_language_in_itself(replica):
    _, served = await page(replica, "/login", **{"Accept-Language": "id"})
    assert [link["data-language"] for link in served.switcher] == list(FIVE)
    for link in served.switcher:
        code = link["data-language"]
        assert (link["lang"], link["hreflang"], link["href"]) == (code, code, f"?lang={code}")
        assert link["text"] == NAMES[code]
    assert [link.get("aria-current") for link in served.switcher] == [
        None,
        None,
        None,
        "true",
        None,
    ]


async def test_lang_in_the_address_beats_the_browser(replica):
    _, served = await page(
        replica, "/reset-password?token=abc&lang=th", **{"Accept-Language": "vi"}
    )
    assert served.lang == "th"
    _, served = await page(replica, "/?lang=fr", **{"Accept-Language": "vi"})
    assert served.lang == "vi"  # not a language of ours: the browser decides


@pytest.mark.parametrize("language", FIVE)
async def test_the_texts_are_served_as_json_from_the_catalogue(replica, language):
    url = f"{TEXTS_PREFIX}/{language}.json"
    reply = await replica.http.get(url)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-cache"
    assert "default-src 'none'" in reply.headers["content-security-policy"]
    texts = reply.json()
    assert texts == CATALOGUE.texts[language]
    assert texts["language.name"] == NAMES[language]
    again = await replica.http.get(url, headers={"If-None-Match": reply.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_every_language_has_the_same_keys_and_its_own_texts(replica):
    tables = {lang: (await replica.http.get(f"{TEXTS_PREFIX}/{lang}.json")).json() for lang in FIVE}
    keys = set(tables["zh-TW"])
    for language in FIVE:
        assert set(tables[language]) == keys, language
    for a, b in (("zh-TW", "vi"), ("en", "id"), ("vi", "th"), ("id", "vi")):
        assert tables[a]["register.submit"] != tables[b]["register.submit"]
    etags = {
        (await replica.http.get(f"{TEXTS_PREFIX}/{lang}.json")).headers["etag"] for lang in FIVE
    }
    assert len(etags) == len(FIVE)


async def test_an_unknown_language_is_the_apis_404(replica):
    for url in (
        f"{TEXTS_PREFIX}/fr.json",
        f"{TEXTS_PREFIX}/vi",
        f"{TEXTS_PREFIX}/../index.html",
        f"{TEXTS_PREFIX}/%2e%2e%2fportal.pot.json",
    ):
        reply = await replica.http.get(url)
        assert reply.status_code == 404, url
        assert reply.json()["error"]["code"] == "not_found"


def test_the_catalogue_has_the_contracts_languages():
    assert CATALOGUE.languages == get_args(Language) == FIVE


def test_every_code_and_value_the_portal_names_has_a_text():
    keys = set(CATALOGUE.texts["zh-TW"])
    wanted = (
        [f"api.{code.value}" for code in ErrorCode]
        + [f"api.weak_password.{r}" for r in ("too_short", "too_long", "common", "contains_id_no")]
        + [f"reader.{code}" for code in ("7004", "4061", "read_failure", "unknown", "titled")]
        + [f"remedy.read.{n}" for n in range(1, 6)]
        + [f"kind.{kind}" for kind in get_args(PersonKind)]
        + [f"status.{status}" for status in get_args(AccountStatus)]
        + [f"channel.{channel}" for channel in get_args(Channel)]
    )
    assert [key for key in wanted if key not in keys] == []


LITERAL = re.compile(r'"([a-z_]+(?:\.[a-z0-9_]+)+)"')
DYNAMIC = re.compile(r"`([a-z_.]+)\.\$\{")
SLOT = re.compile(r"\{\{\s*([a-z0-9_.]+)\s*\}\}")
# Dotted strings in the code that are not texts: the storage key, API field paths.
NOT_TEXTS = {
    "cardreg.language",
    "household.household_no",
    "residence.issued_on",
    "residence.expires_on",
    "residence.serial_no",
    "consent.reference",
    "consent.given_on",
}


def test_every_key_in_the_code_is_in_the_catalogue_and_every_text_is_used():
    code = "".join(p.read_text(encoding="utf-8") for p in (PORTAL_DIR / "assets").rglob("*.js"))
    index = "".join(
        (PORTAL_DIR / page).read_text(encoding="utf-8") for page in ("index.html", "console.html")
    )
    named = (set(LITERAL.findall(code)) - NOT_TEXTS) | set(SLOT.findall(index))
    named |= {"optional", "language.name"}  # a one-word key; the gateway's switcher
    keys = set(CATALOGUE.texts["zh-TW"])
    assert sorted(named - keys) == []
    prefixes = set(DYNAMIC.findall(code))
    assert prefixes == {
        "activity.channel",
        "activity.method",
        "activity.outcome",
        "activity.type",
        "api",
        "api.weak_password",
        "authorize.scope",
        "channel",
        "console.document",
        "console.reason",
        "console.role",
        "kind",
        "remedy.read",
        "status",
    }
    built = {key for key in keys if key.rsplit(".", 1)[0] in prefixes}
    assert sorted(keys - named - built) == []  # no text the portal never shows
