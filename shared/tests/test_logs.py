"""The JSON log format: one object per line, the correlation id, an exception's type and stack
but never its message."""

from __future__ import annotations

import json
import logging

from cardreg_shared import logs

SECRET = "A123456789"


def record(message: str, *, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("cardreg.test", logging.ERROR, __file__, 1, message, (), exc_info)


def test_a_line_is_one_object_with_the_fields_operators_filter_on():
    token = logs.set_correlation_id("0" * 32)
    try:
        line = logs.JsonFormatter("registry").format(record("two\nlines"))
    finally:
        logs.reset_correlation_id(token)
    assert "\n" not in line
    document = json.loads(line)
    assert set(document) == {"time", "level", "service", "logger", "message", "correlation_id"}
    assert document["service"] == "registry" and document["logger"] == "cardreg.test"
    assert document["level"] == "ERROR" and document["message"] == "two\nlines"
    assert document["correlation_id"] == "0" * 32
    assert document["time"].endswith("+00:00")


def test_an_exception_gives_its_type_and_stack_never_its_message():
    try:
        raise ValueError(f"bad card {SECRET}")
    except ValueError:
        import sys

        line = logs.JsonFormatter("identity").format(record("failed", exc_info=sys.exc_info()))
    document = json.loads(line)
    assert document["exception"]["type"] == "ValueError"
    assert "test_an_exception_gives_its_type" in document["exception"]["stack"]
    assert SECRET not in line
    assert document["correlation_id"] is None


def test_only_our_shape_of_correlation_id_is_taken_from_a_header():
    ours = logs.new_correlation_id()
    assert logs.accepted_correlation_id(ours) == ours
    for foreign in (SECRET, "x" * 32, "", None, ours.upper()):
        taken = logs.accepted_correlation_id(foreign)
        assert taken != foreign and len(taken) == 32
