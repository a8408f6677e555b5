"""The diagnostic bundle: one zip a technician carries away on a USB stick, with personal data redacted.

Inside: ``diag.json`` (every diagnostic section), ``config.json`` (secrets hidden), ``queue.json``
(figures and the latest requests' clear fields: no citizen key, nothing sealed), ``audit-tail.json``
(the last audit entries and whether the chain verifies), ``logs/`` (the kiosk log and its rotated
files, every line redacted) and ``manifest.json``. Free text (logs, the report) goes through
``redact``; the structured parts hold no personal data by construction. The zip is fsync'd, and
its folder too, so pulling the stick out right after does not lose it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.audit import Actor, AuditAction, AuditLog
from kiosk.config import Settings
from kiosk.diag_system import redact, redacted_config
from offline.atomic_files import fsync_dir
from offline.outbox import Outbox

AUDIT_TAIL = 200
QUEUE_LATEST = 200


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _redacted(value: Any) -> Any:
    """``value`` with every string in it redacted; numbers stay (a disk size can have 11 digits)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


def _queue(outbox: Outbox | None) -> dict[str, Any]:
    if outbox is None:
        return {"error": "the queue could not be opened"}
    latest = [
        {"id": s.id, "receipt_no": s.receipt_no, "service": s.service, "state": s.state.value,
         "created_at": s.created_at.isoformat(), "state_changed_at": s.state_changed_at.isoformat(),
         "reason": s.reason, "synthetic": s.synthetic}
        for s in outbox.list(limit=QUEUE_LATEST)
    ]
    reprints = [{"receipt_no": s.receipt_no, "reason": why} for s, why in outbox.pending_reprints()]
    return {"stats": outbox.stats(), "latest": latest, "reprints_pending": reprints}


def _audit(audit: AuditLog | None) -> dict[str, Any]:
    if audit is None:
        return {"error": "the audit log could not be opened"}
    check = audit.verify()
    head = audit.checkpoint()
    return {"verify": {"ok": check.ok, "entries": check.entries, "broken_seq": check.broken_seq,
                       "problem": check.problem},
            "checkpoint": {"seq": head.seq, "hash": head.hash},
            "tail": [e.as_dict() for e in audit.tail(AUDIT_TAIL)]}


def bundle_name(kiosk_id: str, when: dt.datetime) -> str:
    """``kiosk-diag-<kiosk id>-<UTC time>.zip``, safe on a FAT-formatted stick."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", kiosk_id)
    return f"kiosk-diag-{safe}-{when.astimezone(dt.timezone.utc):%Y%m%d-%H%M%S}.zip"


def write_bundle(
    settings: Settings,
    out_dir: Path,
    report: dict[str, Any],
    *,
    outbox: Outbox | None,
    audit: AuditLog | None,
    actor: Actor,
    clock: Callable[[], dt.datetime],
) -> Path:
    """Write the zip into ``out_dir`` (created if missing); log the export in the audit log."""
    now = clock()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / bundle_name(settings.kiosk.kiosk_id, now)
    logs = settings.kiosk.data_dir / "logs"
    log_files = sorted(logs.glob("kiosk.log*")) if logs.is_dir() else []
    partial = target.with_suffix(".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("diag.json", _json(_redacted(report)))
        zf.writestr("config.json", _json(_redacted(redacted_config(settings))))
        zf.writestr("queue.json", _json(_queue(outbox)))
        zf.writestr("audit-tail.json", _json(_audit(audit)))
        for path in log_files:
            text = path.read_text(encoding="utf-8", errors="replace")
            zf.writestr(f"logs/{path.name}", "\n".join(redact(line) for line in text.splitlines()) + "\n")
        zf.writestr("manifest.json", _json({
            "kiosk_id": settings.kiosk.kiosk_id, "created_at": now.isoformat(), "version": report.get("version"),
            "files": ["diag.json", "config.json", "queue.json", "audit-tail.json",
                      *(f"logs/{p.name}" for p in log_files)],
            "redaction": "11-digit numbers, Georgian/Armenian/Cyrillic words and digits after PIN/PUK/passcode "
                         "are replaced in logs and the report; secrets in the configuration are hidden",
        }))
    with open(partial, "rb+") as done:
        os.fsync(done.fileno())
    os.replace(partial, target)
    fsync_dir(out_dir)
    if audit is not None:
        audit.append(actor, AuditAction.DIAG_BUNDLE, {"file": target.name, "status": report.get("status")})
    return target
