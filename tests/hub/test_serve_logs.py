"""``kiosk hub serve --log-format json``: one JSON object per log line, for a log shipper."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from hub.serve import JsonLogFormatter

REPO = Path(__file__).resolve().parents[2]


def test_a_log_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    """GIVEN the JSON formatter WHEN a warning with arguments and one with a traceback are formatted THEN each is
    one line of JSON with time, level, logger and the message, and the traceback rides along."""
    formatter = JsonLogFormatter()
    record = logging.LogRecord("hub", logging.WARNING, __file__, 1, "client %s gone after %d bytes", ("1.2.3.4", 9), None)
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "hub", "client 1.2.3.4 gone after 9 bytes")
    assert entry["time"][:2] in ("19", "20")
    try:
        raise ValueError("ნინო")
    except ValueError:
        failed = logging.LogRecord("hub", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    assert "ValueError: ნინო" in json.loads(JsonLogFormatter().format(failed))["traceback"]


def test_the_log_configuration_writes_json_lines_to_stderr() -> None:
    """GIVEN a process configured by log_config("json") WHEN the hub and uvicorn log THEN stderr holds one JSON
    object per line (in a child process: configuring logging here would change every later test's)."""
    code = ("import logging, logging.config; from hub.serve import log_config; "
            "logging.config.dictConfig(log_config('json')); "
            "logging.getLogger('hub').warning('busy: %d bytes', 5); logging.getLogger('uvicorn.error').info('up')")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(e["logger"], e["message"]) for e in lines] == [("hub", "busy: 5 bytes"), ("uvicorn.error", "up")]
