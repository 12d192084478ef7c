"""Logs: one JSON object per line with the request id and what the line is about; sane request ids only."""

import dataclasses
import json
import logging
import threading
from datetime import datetime

import pytest

from portal.core.logging import (
    REQUEST_ID_MAX_LENGTH,
    accept_request_id,
    bind,
    bound,
    close_context,
    configure_logging,
    current_request_id,
    log_context,
    new_request_id,
    open_context,
)
from tests.production_env import PRODUCTION_ENV


@pytest.fixture
def log_format(settings):
    """Configure logging in a given format for one test, then put the suite's back."""

    def use(fmt: str) -> logging.Logger:
        options = dataclasses.replace(settings.observability, log_format=fmt, log_level="INFO")
        configure_logging(dataclasses.replace(settings, observability=options), service="worker")
        return logging.getLogger("tests.logging")

    yield use
    configure_logging(settings, service="web")


def _lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_a_json_line_carries_time_level_logger_message_and_the_context(log_format, capsys):
    log = log_format("json")
    token = open_context(request_id="req-42", task_name="dossiers.forward", task_id="t-1")
    try:
        bind(partner_id="p-1", dossier_id="d-1")
        log.warning("city answered %s", 503, extra={"duration_ms": 12.5})
    finally:
        close_context(token)
    (line,) = _lines(capsys.readouterr().err)
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.logging"
    assert line["message"] == "city answered 503"
    assert line["service"] == "worker"
    assert line["request_id"] == "req-42"
    assert (line["partner_id"], line["dossier_id"]) == ("p-1", "d-1")
    assert (line["task_name"], line["task_id"]) == ("dossiers.forward", "t-1")
    assert line["duration_ms"] == 12.5


def test_a_line_outside_any_request_says_so_and_an_exception_comes_whole(log_format, capsys):
    log = log_format("json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("could not enqueue")
    (line,) = _lines(capsys.readouterr().err)
    assert line["request_id"] is None
    assert "dossier_id" not in line  # fields appear only where known
    assert line["exception"].startswith("Traceback") and "RuntimeError: boom" in line["exception"]


def test_the_text_format_shows_the_same_context_for_people(log_format, capsys):
    log = log_format("text")
    with bound(request_id="req-7", dossier_id="d-9"):
        log.info("forwarded")
    err = capsys.readouterr().err
    assert "INFO tests.logging [request_id=req-7 dossier_id=d-9]: forwarded" in err
    assert not _lines(err)


def test_a_context_ends_with_its_request_or_task_and_restores_the_outer_one():
    outer = open_context(request_id="outer")
    try:
        inner = open_context(request_id="inner", task_name="dossiers.sync_status")
        bind(partner_id="p-2")
        assert log_context() == {"request_id": "inner", "task_name": "dossiers.sync_status", "partner_id": "p-2"}
        close_context(inner)
        assert log_context() == {"request_id": "outer"}
        with bound(dossier_id="d-3"):
            assert current_request_id() == "outer" and log_context()["dossier_id"] == "d-3"
        assert "dossier_id" not in log_context()
    finally:
        close_context(outer)
    assert current_request_id() is None


def test_another_thread_does_not_see_this_threads_request():
    seen: list[str | None] = []
    with bound(request_id="mine"):
        thread = threading.Thread(target=lambda: seen.append(current_request_id()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_only_known_fields_enter_the_context():
    with pytest.raises(ValueError, match="citizen_phone"):
        bind(citizen_phone="0912345678")


@pytest.mark.parametrize(
    "given",
    ["3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e", "01J9ZQ4K7X2M3N4P5Q6R7S8T9V", "lb-1:req.7_a", "a" * REQUEST_ID_MAX_LENGTH],
)
def test_a_sane_incoming_request_id_is_kept(given):
    assert accept_request_id(given) == given
    assert accept_request_id(f"  {given} ") == given


@pytest.mark.parametrize(
    "given",
    [
        None,
        "",
        "   ",
        "a" * (REQUEST_ID_MAX_LENGTH + 1),
        "abc\ninjected log line",
        "two words",
        'quote"s',
        "<script>",
        "-starts-with-a-dash",
        "xin-chào",
    ],
)
def test_an_unsafe_or_oversized_request_id_is_refused(given):
    assert accept_request_id(given) is None


def test_generated_request_ids_are_unique_and_themselves_acceptable():
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(accept_request_id(i) == i for i in ids)


def test_outside_any_request_task_or_command_nothing_is_kept():
    bind(partner_id="p-stale")
    assert log_context() == {}


def test_an_extra_field_cannot_pass_itself_off_as_the_level_or_the_service(log_format, capsys):
    log_format("json").info("hello", extra={"level": "DEBUG", "service": "web", "route": "/x"})
    (line,) = _lines(capsys.readouterr().err)
    assert (line["level"], line["service"], line["route"]) == ("INFO", "worker", "/x")


def test_production_logs_json_and_the_demo_logs_text_unless_told_otherwise():
    from portal.core.settings import SettingsError, load_settings

    assert load_settings({}).observability.log_format == "text"
    assert load_settings({"LOG_FORMAT": "JSON", "LOG_LEVEL": "warning"}).observability.log_format == "json"
    with pytest.raises(SettingsError) as error:
        load_settings({"LOG_FORMAT": "xml", "LOG_LEVEL": "chatty"})
    assert "LOG_FORMAT" in str(error.value) and "LOG_LEVEL" in str(error.value)
    production = PRODUCTION_ENV
    assert load_settings(production).observability.log_format == "json"
    assert load_settings({**production, "LOG_FORMAT": "text"}).observability.log_format == "text"
