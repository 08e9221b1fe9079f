"""`--log-level` and `--log-format` on `paicha serve` and `paicha scheduler`: the level is
honoured, JSON lines carry the extra fields, text lines show them as key=value, and a format
nobody knows stops the command with what to write instead."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from paicha import logs, serve
from paicha.cli import build_parser, main


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level,
             {name: logging.getLogger(name).level for name in logs.NOISY})
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("command", ["serve", "scheduler"])
def test_log_level_warning_hides_info(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args([command, "--log-level", "WARNING", "--log-format", "json"])
    serve._logging(args)
    log = logging.getLogger("paicha.sweep")
    log.info("sweep", extra={"action": "sweep", "claimed": 3})
    log.warning("batch failed", extra={"action": "sweep_batch_failed", "timers": 2})
    logging.getLogger("transitions.core").warning("a library's warning still shows")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(d["level"], d["message"]) for d in lines] == [
        ("WARNING", "batch failed"), ("WARNING", "a library's warning still shows")]
    assert lines[0]["action"] == "sweep_batch_failed" and lines[0]["timers"] == 2
    assert "request_id" not in lines[0]  # no request: no id


def test_info_shows_at_the_default_level_in_text_with_its_fields(
        capsys: pytest.CaptureFixture[str]) -> None:
    serve._logging(build_parser().parse_args(["scheduler"]))
    token = logs.request_id.set("abc123")
    try:
        logging.getLogger("paicha.sweep").info("sweep", extra={"claimed": 3})
    finally:
        logs.request_id.reset(token)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0010 -> 0011")
    [line] = capsys.readouterr().err.splitlines()
    assert " INFO paicha.sweep sweep [abc123] claimed=3" in line


def test_an_unknown_format_from_the_environment_is_a_usage_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PAICHA_LOG_FORMAT", "xml")
    assert main(["scheduler", "--database", "sqlite:////nonexistent/folder/x.db"]) == 2
    assert "unknown log format 'xml'; give text or json" in capsys.readouterr().err


def test_uvicorn_access_lines_become_fields() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/health", "1.1", 200), None)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == '127.0.0.1:5000 - "GET /health HTTP/1.1" 200'
    assert (line["method"], line["path"], line["status"]) == ("GET", "/health", 200)
