"""Reader error codes (FAQ 15) with their texts and remedies, in zh-TW and English.

| code | when | HTTP |
| --- | --- | --- |
| `7004` | no card in the reader (PC/SC: SCARD_E_NO_SMARTCARD / SCARD_W_REMOVED_CARD on connect; pyscard's NoCardException) | 409 |
| `7001` | the card left during the read (SCARD_W_REMOVED_CARD, SCARD_W_RESET_CARD, SCARD_E_NOT_TRANSACTED, or success with no status word as under vpcd; pyscard's CardConnectionException mid-transaction), or another program holds the card | 409 |
| `7002` | the card answered, but not as an NHI card with our applet does: SELECT refused, a status word other than 9000, a profile of the wrong length or with malformed fields, a signature of the wrong length, a card that does not speak T=1 | 422 |
| `8013` | the reader or the PC/SC service is gone: pcscd not running (EstablishContextException), no reader, the configured reader missing or removed | 503 |
| `4061` | the portal's own: it could not send the card read to the gateway (firewall, proxy); never produced by the agent | 502 |

Error bodies (`error_body`) have one shape, also for `invalid_request`; the portal shows the
text in the page's language:

    {"error": {"code": "7004",
               "message": {"zh-TW": "...", "en": "..."},
               "remedy": {"zh-TW": "...", "en": "..."}}}

`remedy` is absent when there is nothing for the user to do differently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web


class ReaderErrorCode(StrEnum):
    NO_CARD = "7004"
    CARD_REMOVED = "7001"
    UNEXPECTED_CARD = "7002"
    READER_GONE = "8013"
    NOT_SENT = "4061"


@dataclass(frozen=True)
class Texts:
    zh_tw: str
    en: str

    def as_json(self) -> dict[str, str]:
        return {"zh-TW": self.zh_tw, "en": self.en}


@dataclass(frozen=True)
class ErrorText:
    http_status: int
    message: Texts
    remedy: Texts | None


# FAQ 15's remedies for an unstable read (7001, 7002, 8013), in its order.
UNSTABLE_READ_REMEDY = Texts(
    zh_tw=(
        "(1) 卡片與讀卡機插卡處可能密合不良，請將健保卡重新插入讀卡機後再次讀取。"
        "(2) 建議將讀卡機接到電腦後端的 USB 埠，前端 USB 埠較不穩定。"
        "(3) 請確認是否已安裝讀卡機驅動程式，或驅動程式是否未完成安裝。"
        "(4) 更換讀卡機。(5) 更換健保卡。"
    ),
    en=(
        "(1) Re-insert the card in the reader and read it again. "
        "(2) Plug the reader into a USB port at the back of the computer; front ports are less "
        "stable. (3) Check that the reader's driver is installed and its installation finished. "
        "(4) Try another reader. (5) Try another card."
    ),
)

READER_ERRORS: dict[ReaderErrorCode, ErrorText] = {
    ReaderErrorCode.NO_CARD: ErrorText(
        409,
        Texts("未插入健保卡。", "No card is inserted."),
        Texts(
            "請將健保卡插入讀卡機後再次讀取。",
            "Insert your NHI card in the reader and read it again.",
        ),
    ),
    ReaderErrorCode.CARD_REMOVED: ErrorText(
        409,
        Texts(
            "讀卡異常或不穩定：讀取過程中卡片被移除或連線中斷。",
            "The read failed or was unstable: the card was removed or lost contact during the read.",
        ),
        UNSTABLE_READ_REMEDY,
    ),
    ReaderErrorCode.UNEXPECTED_CARD: ErrorText(
        422,
        Texts(
            "讀卡異常或不穩定：卡片回應不正確，可能不是健保卡。",
            "The read failed or was unstable: the card did not answer as an NHI card does.",
        ),
        UNSTABLE_READ_REMEDY,
    ),
    ReaderErrorCode.READER_GONE: ErrorText(
        503,
        Texts(
            "讀卡異常或不穩定：找不到讀卡機或讀卡服務。",
            "The read failed or was unstable: the card reader or the smart-card service is not available.",
        ),
        UNSTABLE_READ_REMEDY,
    ),
    ReaderErrorCode.NOT_SENT: ErrorText(
        502,
        Texts("相關資料無法透過網路送出。", "The card data could not be sent over the network."),
        Texts(
            "可能因防火牆或代理伺服器的關係，請洽單位資訊人員確認。",
            "A firewall or proxy server may be blocking it; ask your IT staff to check.",
        ),
    ),
}

# The agent's own errors, in the same shape.
INVALID_REQUEST = ErrorText(
    400,
    Texts("請求格式不正確。", "The request is malformed or a field is invalid."),
    None,
)
FORBIDDEN = ErrorText(
    403,
    Texts("此網頁不可使用讀卡元件。", "This page may not use the card reader component."),
    None,
)
NOT_FOUND = ErrorText(404, Texts("找不到此功能。", "No such function."), None)
METHOD_NOT_ALLOWED = ErrorText(
    405, Texts("不支援此方法。", "This method is not allowed here."), None
)
INTERNAL = ErrorText(
    500, Texts("讀卡元件發生內部錯誤。", "The card reader component failed unexpectedly."), None
)


class ReaderError(Exception):
    """A failed read, by FAQ code. `detail` is for the log: never personal data, never shown."""

    def __init__(self, code: ReaderErrorCode, detail: str) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail


def error_body(code: str, text: ErrorText) -> dict:
    error: dict = {"code": code, "message": text.message.as_json()}
    if text.remedy is not None:
        error["remedy"] = text.remedy.as_json()
    return {"error": error}


def reader_error_body(code: ReaderErrorCode) -> dict:
    return error_body(code.value, READER_ERRORS[code])


def json_response(body: object, status: int = 200) -> web.Response:
    """The agent's JSON: UTF-8 as is (the texts are zh-TW), like every reply it sends."""
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(body: object) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def catalog() -> dict[str, dict]:
    """Every FAQ 15 code with its texts, JSON-ready: for the portal, which shows them (and
    raises 4061 itself)."""
    return {code.value: reader_error_body(code)["error"] for code in ReaderErrorCode}
