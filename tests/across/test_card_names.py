"""Rules two packages must agree on, checked where both are installed (the workspace), since
neither package's own tests may import the other."""

from __future__ import annotations

from cardreg_agent.big5 import PRIVATE_USE
from cardreg_identity.domain.card_names import BIG5_USER_DEFINED


def test_the_codec_covers_identity_s_user_defined_range() -> None:
    """Identity stores rare names as private-use characters; every one it accepts fits a card."""
    assert range(BIG5_USER_DEFINED.start, BIG5_USER_DEFINED.stop) == PRIVATE_USE
