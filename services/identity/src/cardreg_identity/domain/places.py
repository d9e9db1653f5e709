"""Taiwan's cities and counties, and how a registered township name is built from them.

A township (鄉鎮市區) is stored with its city or county in front, as the household register
writes it: "臺北市大安區", "彰化縣鹿港鎮". Every city and county name has three characters.
The letter is the area code that starts household numbers and most ID numbers issued there.
"""

from __future__ import annotations

CITIES: dict[str, str] = {
    "臺北市": "A", "新北市": "F", "桃園市": "H", "臺中市": "B", "臺南市": "D", "高雄市": "E",
    "基隆市": "C", "新竹市": "O", "嘉義市": "I", "新竹縣": "J", "苗栗縣": "K", "彰化縣": "N",
    "南投縣": "M", "雲林縣": "P", "嘉義縣": "Q", "屏東縣": "T", "宜蘭縣": "G", "花蓮縣": "U",
    "臺東縣": "V", "澎湖縣": "X", "金門縣": "W", "連江縣": "Z",
}  # fmt: skip

TOWNSHIP_SUFFIXES = ("區", "鄉", "鎮", "市")
VILLAGE_SUFFIXES = ("里", "村")


def split_township(township: str) -> tuple[str, str] | None:
    """("臺北市", "大安區") for "臺北市大安區"; None when it does not start with a known city."""
    city, district = township[:3], township[3:]
    if city not in CITIES or len(district) < 2 or not district.endswith(TOWNSHIP_SUFFIXES):
        return None
    return city, district
