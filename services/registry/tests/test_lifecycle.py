"""The account lifecycle: the transitions DESIGN draws, what each state allows, what a refusal
answers, and the diagram beside the code (and in the README) drawn from the same table."""

from __future__ import annotations

from pathlib import Path

import pytest
from cardreg_registry.domain import lifecycle
from cardreg_registry.domain.lifecycle import Activity, Refused, Transition
from cardreg_shared.errors import ErrorCode

MODULE_DIR = Path(lifecycle.__file__).parent
README = Path(__file__).parents[1] / "README.md"


def test_the_transitions_are_designs():
    assert lifecycle.TRANSITIONS == {
        (None, Transition.REGISTER_ONLINE): ("active",),
        (None, Transition.REGISTER_AT_COUNTER): ("pending",),
        (None, Transition.DEACTIVATE): ("deactivated",),
        ("pending", Transition.COMPLETE_SETUP): ("active",),
        ("pending", Transition.DEACTIVATE): ("deactivated",),
        ("active", Transition.DEACTIVATE): ("deactivated",),
        ("deactivated", Transition.REACTIVATE): ("active", None),
    }


@pytest.mark.parametrize(
    ("state", "transition", "code"),
    [
        ("active", Transition.REGISTER_ONLINE, ErrorCode.ALREADY_REGISTERED),
        ("pending", Transition.REGISTER_ONLINE, ErrorCode.ALREADY_REGISTERED),
        ("deactivated", Transition.REGISTER_ONLINE, ErrorCode.ACCOUNT_DEACTIVATED),
        ("deactivated", Transition.DEACTIVATE, ErrorCode.ACCOUNT_DEACTIVATED),
        ("active", Transition.COMPLETE_SETUP, ErrorCode.INVALID_REQUEST),
        ("active", Transition.REACTIVATE, ErrorCode.INVALID_REQUEST),
        (None, Transition.REACTIVATE, ErrorCode.NOT_FOUND),
        (None, Transition.COMPLETE_SETUP, ErrorCode.NOT_FOUND),
    ],
)
def test_a_transition_not_in_the_table_is_refused_with_its_code(state, transition, code):
    with pytest.raises(Refused) as refused:
        lifecycle.targets(state, transition)
    assert refused.value.code is code


def test_only_an_active_account_may_be_used():
    for activity in Activity:
        assert lifecycle.allows("active", activity)
        assert not lifecycle.allows("pending", activity)
        assert not lifecycle.allows("deactivated", activity)
        assert not lifecycle.allows(None, activity)


@pytest.mark.parametrize(
    ("state", "activity", "code"),
    [
        ("deactivated", Activity.LOG_IN, ErrorCode.ACCOUNT_DEACTIVATED),
        ("deactivated", Activity.USE_SESSION, ErrorCode.ACCOUNT_DEACTIVATED),
        ("deactivated", Activity.RESET_PASSWORD, ErrorCode.ACCOUNT_DEACTIVATED),
        ("deactivated", Activity.CHANGE_CREDENTIALS, ErrorCode.ACCOUNT_DEACTIVATED),
        ("pending", Activity.LOG_IN, ErrorCode.INVALID_CREDENTIALS),
        ("pending", Activity.RESET_PASSWORD, ErrorCode.RESET_TOKEN_INVALID),
        ("pending", Activity.USE_SESSION, ErrorCode.UNAUTHORIZED),
    ],
)
def test_what_a_refused_activity_answers(state, activity, code):
    with pytest.raises(Refused) as refused:
        lifecycle.require(state, activity)
    assert refused.value.code is code


def test_the_diagram_beside_the_module_is_drawn_from_the_table():
    committed = (MODULE_DIR / "lifecycle.mermaid").read_text(encoding="utf-8")
    assert committed == lifecycle.mermaid(), "regenerate domain/lifecycle.mermaid"
    for (source, transition), ends in lifecycle.TRANSITIONS.items():
        for end in ends:
            assert (
                f"{source or '[*]'} --> {end or '[*]'}: {lifecycle.LABELS[transition]}" in committed
            )


def test_the_readme_shows_the_same_diagram():
    assert f"```mermaid\n{lifecycle.mermaid()}```" in README.read_text(encoding="utf-8")
