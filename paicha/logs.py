"""Logging for the serving processes (`paicha serve`, `paicha scheduler`): one setup, two formats.

`text` is for a person at a terminal: time, level, logger and message, then the request id and
the record's extra fields as `key=value`. `json` is for a log collector: one JSON object a line
with `time`, `level`, `logger`, `message`, `request_id` (in a request) and every extra field
the code passed (`log.info("sweep", extra={"action": "sweep", "claimed": 3})`), so nothing has
to be parsed out of the message. uvicorn's own lines, its access log included, go through the
same handler (uvicorn is told not to set up logging of its own).

Libraries that log routine work at INFO — `transitions` says "Finished processing state …
callbacks" on every event, Alembic every migration step, APScheduler every tick — are held at
WARNING whatever the level, so `--log-level info` shows paicha's lines, not theirs.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from typing import Any, Literal, TextIO

Format = Literal["text", "json"]
FORMATS: tuple[Format, ...] = ("text", "json")
LEVELS = ("critical", "error", "warning", "info", "debug")

# The id of the request being served (api.telemetry sets it): in every line logged meanwhile.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("paicha_request_id",
                                                                        default=None)

# routine work at INFO (or DEBUG) on every event, migration step or scheduler tick
NOISY = ("transitions", "alembic", "apscheduler", "httpx", "httpcore", "multipart",
         "aiosmtpd", "mail.log")

# What every LogRecord has; the rest of a record's attributes are the caller's `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "color_message"}


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields the caller passed with `extra=`, and uvicorn's access line taken apart."""
    found = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
            and len(record.args) == 5:
        client, method, path, version, status = record.args
        found.update(client=client, method=method, path=path, http_version=version,
                     status=status)
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        rid = request_id.get()
        if rid is not None:
            line["request_id"] = rid
        for key, value in extras(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger message [request id] key=value …` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        rid = request_id.get()
        if rid is not None:
            line += f" [{rid}]"
        fields = {k: v for k, v in extras(record).items() if record.name != "uvicorn.access"}
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def configure(level: str = "info", fmt: Format = "text", *,
              stream: TextIO | None = None) -> logging.Handler:
    """Set up the process's logging: one handler on the root logger in `fmt`, at `level`,
    the noisy libraries at WARNING (or above, if `level` is). Replaces what was set up before,
    so a second call changes the format. Returns the handler."""
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}; give one of {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; give text or json")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "paicha", False)]:
        root.removeHandler(old)
    handler.paicha = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(number)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
    # uvicorn's loggers pass their lines on to this handler (it sets up none of its own)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    return handler
