"""``kiosk audit verify|list`` and ``kiosk passcode-hash``: the audit trail and the technician passcode.

``audit verify`` exits 0 on an intact chain and 1 naming the first broken entry; ``--checkpoint
SEQ:HASH`` (what the hub last received) also catches entries cut off the end. ``passcode-hash``
reads the passcode from standard input or the terminal, never from the command line, where
``ps`` and the shell history would keep it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from kiosk.audit import Checkpoint, open_audit_log
from kiosk.config import Settings
from kiosk.passcode import MIN_LENGTH, hash_passcode


def _checkpoint(text: str) -> Checkpoint:
    try:
        seq, digest = text.split(":", 1)
        return Checkpoint(int(seq), digest.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not SEQ:HASH") from None


def add_parser(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Register ``audit verify``, ``audit list`` and ``passcode-hash``."""
    audit = subparsers.add_parser(
        "audit", parents=[common_parent], help="verify or list the audit log of privileged actions",
        description="The audit log records every role login, passcode try, assisted session, reprint, "
        "cancellation, configuration change, enrolment and diagnostic export, hash-chained.",
    )
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", parents=[common_parent], help="check the hash chain",
                                description="Exit 0 when the chain is intact, 1 naming the first broken entry.")
    verify.add_argument("--checkpoint", type=_checkpoint, metavar="SEQ:HASH",
                        help="a checkpoint the hub holds; entries cut off after it are then caught too")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(handler=run_verify)
    listing = actions.add_parser("list", parents=[common_parent], help="print the entries, oldest first")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--last", type=int, default=50, metavar="N", help="only the last N entries (default 50)")
    listing.set_defaults(handler=run_list)

    passcode = subparsers.add_parser(
        "passcode-hash", parents=[common_parent], help="make the technician passcode hash for the configuration",
        description="Read a passcode (twice from the terminal, or one line from standard input) and print "
        "its scrypt hash for [access] technician_passcode_hash. The passcode is never an argument.",
    )
    passcode.set_defaults(handler=run_passcode_hash)


def _clock() -> Any:
    from kiosk.clock import utc_now

    return utc_now


def run_verify(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk audit verify``."""
    log = open_audit_log(settings.kiosk.data_dir, _clock())
    try:
        result = log.verify(expected=args.checkpoint)
        head = log.checkpoint()
    finally:
        log.close()
    if args.json:
        print(json.dumps({"ok": result.ok, "entries": result.entries, "broken_seq": result.broken_seq,
                          "problem": result.problem, "checkpoint": {"seq": head.seq, "hash": head.hash}}))
    elif result.ok:
        print(f"audit log intact: {result.entries} entries, head {head.seq}:{head.hash}")
    else:
        print(f"audit log BROKEN at entry {result.broken_seq}: {result.problem}")
    return 0 if result.ok else 1


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk audit list``."""
    log = open_audit_log(settings.kiosk.data_dir, _clock())
    try:
        entries = log.tail(max(1, args.last))
    finally:
        log.close()
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
        return 0
    for e in entries:
        details = " ".join(f"{k}={v}" for k, v in e.details.items() if k != "digests")
        print(f"{e.seq:>6} {e.time} {e.actor_role:<10} {e.actor_id:<12} {e.action:<18} {details}")
    return 0


def _read_passcode() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("technician passcode: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passcodes differ")
    return first


def run_passcode_hash(settings: Settings, args: argparse.Namespace) -> int:
    """``kiosk passcode-hash``."""
    try:
        passcode = _read_passcode()
        digest = hash_passcode(passcode)
    except ValueError as exc:
        print(f"kiosk passcode-hash: {exc} (at least {MIN_LENGTH} characters)", file=sys.stderr)
        return 1
    print(digest)
    print(f'put it in the configuration:\n  [access]\n  technician_passcode_hash = "{digest}"', file=sys.stderr)
    return 0
