"""Password rules: length after NFKC, common passwords, the ID number, what cannot be typed;
nothing else."""

from __future__ import annotations

import pytest
from cardreg_registry.domain.passwords import WeakReason, normalise_password, weakness

ID_NO = "A123456789"


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("seven77", WeakReason.TOO_SHORT),
        ("", WeakReason.TOO_SHORT),
        ("x" * 65, WeakReason.TOO_LONG),
        ("password", WeakReason.COMMON),
        ("PassWord", WeakReason.COMMON),
        ("iloveyou", WeakReason.COMMON),
        ("qwertyuiop", WeakReason.COMMON),
        (f"pre{ID_NO}post", WeakReason.CONTAINS_ID_NO),
        (f"pre{ID_NO.lower()}post", WeakReason.CONTAINS_ID_NO),
        ("tea-mountain-harbour", None),
        ("x" * 8, None),
        ("x" * 64, None),
        # No composition rules: all lower case, no digits, is fine when long and uncommon.
        ("correcthorsebatterystaple", None),
        # What nobody types: control characters (C0 with tab and newline, DEL, C1), U+FFFD.
        ("tea-mountain\x00harbour", WeakReason.CONTROL_CHARACTER),
        ("\x00" * 8, WeakReason.CONTROL_CHARACTER),
        ("\x01" * 8, WeakReason.CONTROL_CHARACTER),
        ("\t\n\t\n\t\n\t\n", WeakReason.CONTROL_CHARACTER),
        ("tea-mountain\x7fharbour", WeakReason.CONTROL_CHARACTER),
        ("tea-mountain\x85harbour", WeakReason.CONTROL_CHARACTER),
        ("tea-mountain\x9fharbour", WeakReason.CONTROL_CHARACTER),
        ("tea-mountain\ufffdharbour", WeakReason.CONTROL_CHARACTER),
        ("\x00", WeakReason.CONTROL_CHARACTER),  # before the length: the real problem
        # Only whitespace, also after NFKC (ideographic and no-break spaces become spaces),
        # and zero-width characters, which show nothing either.
        (" " * 8, WeakReason.WHITESPACE_ONLY),
        ("\u3000" * 8, WeakReason.WHITESPACE_ONLY),
        ("\u00a0" * 10, WeakReason.WHITESPACE_ONLY),
        ("\u200b" * 8, WeakReason.WHITESPACE_ONLY),
        ("   ", WeakReason.WHITESPACE_ONLY),
        # Spaces inside a passphrase are fine.
        ("tea mountain harbour", None),
        ("  tea mountain harbour  ", None),
    ],
)
def test_weakness(password, expected):
    assert weakness(normalise_password(password), ID_NO) == expected


def test_length_counts_characters_not_bytes():
    assert weakness("台灣健保卡註冊密碼", ID_NO) is None  # 9 characters, 27 bytes
    assert weakness("台灣健保卡註冊", ID_NO) is WeakReason.TOO_SHORT
    assert weakness("🔑" * 64, ID_NO) is None


def test_nfkc_makes_full_width_forms_the_same_password():
    assert normalise_password("ｐａｓｓｗｏｒｄ") == "password"
    assert weakness(normalise_password("ｐａｓｓｗｏｒｄ"), ID_NO) is WeakReason.COMMON
    # Full-width ID number is still the ID number.
    full_width_id = "Ａ１２３４５６７８９"
    assert weakness(normalise_password(f"my{full_width_id}pw"), ID_NO) is WeakReason.CONTAINS_ID_NO


def test_length_is_measured_after_normalisation():
    # U+FB03 "ﬃ" is one character that NFKC turns into three.
    assert weakness("ﬃ" * 3, ID_NO) is WeakReason.TOO_SHORT
    assert weakness(normalise_password("ﬃ" * 3), ID_NO) is None
