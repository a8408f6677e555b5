"""What each ``kiosk hub`` command does (the parser is in ``hub.cli``)."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hub import backoffice, documents, enrolment
from hub.admission import Admission, index_missing
from hub.keys import HubKeys, HubKeysMissing, KeyFiles, ensure_keys, load_keys
from hub.models import HubState
from hub.store import DatabaseUrlError, HubDatabase, database_url, sqlite_path
from hub.text import escape_controls, json_escape_controls


class CommandFailed(Exception):
    """A hub command could not do what was asked; the message says why, for the operator."""


def _print_json(value: Any) -> None:
    # Rows stored by older hubs (or opened payloads) may hold terminal escapes: written as \uXXXX,
    # they mean the same to a JSON reader and nothing to the terminal.
    print(json_escape_controls(json.dumps(value, ensure_ascii=False, indent=2)))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def cell(row: dict[str, Any], column: str) -> str:
        value = row.get(column)
        return "-" if value is None else escape_controls(str(value))

    widths = {c: max([len(c), *(len(cell(r, c)) for r in rows)]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(cell(row, c).ljust(widths[c]) for c in columns).rstrip())


def _url(args: argparse.Namespace) -> str:
    if not args.db:
        raise CommandFailed("name the hub's database with --db (or KIOSK_HUB_DB): a SQLite file or postgresql://…")
    try:
        return database_url(args.db)
    except DatabaseUrlError as exc:
        raise CommandFailed(str(exc)) from None


def _connect(url: str, *, create: bool = False) -> HubDatabase:
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise CommandFailed(f"{path} does not exist: run `kiosk hub init --db {path}` first")
    try:
        return HubDatabase(url)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise CommandFailed(f"cannot open the hub database: {detail}") from None


def _open(args: argparse.Namespace) -> HubDatabase:
    return _connect(_url(args))


def key_files(args: argparse.Namespace) -> KeyFiles:
    """Where the hub's keys are: ``--keys DIR``, or beside a SQLite database."""
    if args.keys:
        return KeyFiles.in_folder(args.keys)
    path = sqlite_path(_url(args))
    if path is None:
        raise CommandFailed("a hub on a database server keeps its keys in a folder: "
                            "give --keys DIR (or KIOSK_HUB_KEYS)")
    return KeyFiles.beside(path)


def _keys(args: argparse.Namespace) -> HubKeys:
    try:
        return load_keys(key_files(args))
    except HubKeysMissing as exc:
        raise CommandFailed(str(exc)) from None


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema and make the keys (never replacing keys that exist); print the public keys."""
    url = _url(args)
    files = key_files(args)
    store = _connect(url, create=True)
    store.close()
    if store.path is not None:
        store.path.chmod(0o600)  # citizen keys, staff names; SQLite gives -wal/-shm the same mode
    keys = ensure_keys(files)
    print(f"hub database: {store.describe()} (schema up to date)")
    print(f"keys (0600): {files.seal}, {files.sign}")
    for name, value in keys.public_b64().items():
        print(f"{name}: {value}")
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 = any free port), bound before the server starts so its URL is known."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then (else answers wait ~40 ms for a delayed ACK)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections made right after the URL is printed wait in the backlog
    except OSError as exc:
        raise CommandFailed(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _trust_anchors(folder: Path | None) -> list[Any]:
    if folder is None:
        return []
    from protocol.certificates import load_trust_anchors

    try:
        anchors = load_trust_anchors(folder)
    except (OSError, ValueError) as exc:
        raise CommandFailed(f"--trust-anchors {folder}: {exc}") from None
    if not any(a.subject == a.issuer for a in anchors):
        raise CommandFailed(f"--trust-anchors {folder}: no root CA certificate (self-signed) in it")
    return anchors


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; the first stdout line is ``listening on URL``."""
    try:
        from hub import serve
        from hub.http import Limits
    except ImportError as exc:
        raise CommandFailed(f"{exc.name} is missing: install the hub extra (pip install -e '.[hub]')") from None
    if args.workers < 1:
        raise CommandFailed("--workers must be 1 or more")
    url = _url(args)
    if args.workers > 1 and sqlite_path(url) is not None:
        raise CommandFailed("SQLite serves one process: use --workers 1, or move the hub to PostgreSQL "
                            "(kiosk hub migrate-db)")
    keys = _keys(args)  # fail here, before listening, when they are missing
    anchors = _trust_anchors(args.trust_anchors)
    store = _open(args)  # the schema brought up to date once, before any worker starts
    try:
        index_missing(store, Admission(keys, None))  # requests kept before the hub named citizens itself
    finally:
        store.close()
    if not anchors:
        print("kiosk hub serve: no --trust-anchors: requests are not checked for the card's proof of presence, "
              "and \"my requests\" is refused", file=sys.stderr)
    sock = listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    print(f"listening on http://{f'[{host}]' if ':' in host else host}:{port}", flush=True)
    limits = Limits(max_connections=args.max_connections, body_timeout_s=args.body_timeout)
    try:
        serve.run(sock, url, key_files(args), limits, workers=args.workers, log_format=args.log_format,
                  pool_size=args.pool_size, public_url=args.public_url, sms_gateway=args.sms_gateway,
                  trust_anchors=str(args.trust_anchors) if anchors else None,
                  personal_number_field=args.personal_number_field)
    finally:
        sock.close()
    return 0


def cmd_migrate_db(args: argparse.Namespace) -> int:
    """Copy every row of one hub database into another, empty one (a pilot's SQLite onto PostgreSQL)."""
    from hub.transfer import TransferError, copy_database

    try:
        source, target = database_url(args.source), database_url(args.target)
    except DatabaseUrlError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        counts = copy_database(_connect(source), _connect(target, create=True),
                               progress=lambda table, n: print(f"{table}: {n} rows", flush=True))
    except TransferError as exc:
        raise CommandFailed(str(exc)) from None
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables; counts checked on both sides")
    return 0


def cmd_enroll_code(args: argparse.Namespace) -> int:
    """Print a one-time enrolment code."""
    import datetime as dt

    _keys(args)
    print(enrolment.make_code(_open(args), dt.timedelta(hours=args.valid_hours)))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Submissions, duplicates, counts per state."""
    figures = backoffice.stats(_open(args))
    if args.json:
        _print_json(figures)
    else:
        print(f"submissions: {figures['submissions']} (synthetic {figures['synthetic']})")
        print(f"duplicates:  {figures['duplicates']} re-sends answered 'duplicate'")
        print("states:      " + ", ".join(f"{k} {v}" for k, v in figures["states"].items()))
        print(f"kiosks:      {figures['kiosks']} ({figures['kiosks_revoked']} revoked)")
    return 0


def cmd_fleet(args: argparse.Namespace) -> int:
    """Kiosks with their last heartbeat."""
    rows = backoffice.fleet(_open(args))
    if args.json:
        _print_json({"kiosks": rows})
    else:
        _table(rows, ["kiosk_id", "name", "last_heartbeat", "heartbeat_age_s", "version", "queue_depth",
                      "oldest_queued_age_s", "printer", "reader", "audit_problem", "revoked"])
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Submissions newest first, facts only."""
    rows = backoffice.list_submissions(_open(args), HubState(args.state) if args.state else None,
                                       args.kiosk, args.limit)
    if args.json:
        _print_json({"submissions": rows})
    else:
        _table(rows, ["id", "kiosk_id", "receipt_no", "service", "received_at", "state", "reason"])
    return 0


def _unknown(args: argparse.Namespace, exc: LookupError) -> CommandFailed:
    if isinstance(exc, backoffice.AmbiguousSubmission):
        return CommandFailed(f"kiosks {', '.join(exc.kiosk_ids)} each sent a request {args.id}: add --kiosk KIOSK_ID")
    return CommandFailed(f"no submission {args.id}" + (f" from {args.kiosk}" if args.kiosk else ""))


def cmd_open(args: argparse.Namespace) -> int:
    """Decrypt one submission and print it."""
    keys = _keys(args)
    try:
        _print_json(backoffice.open_submission(_open(args), keys, args.id, args.kiosk))
    except LookupError as exc:
        raise _unknown(args, exc) from None
    return 0


def cmd_set_status(args: argparse.Namespace) -> int:
    """Change a submission's state."""
    try:
        backoffice.set_status(_open(args), args.id, HubState(args.state), args.reason, args.kiosk)
    except LookupError as exc:
        raise _unknown(args, exc) from None
    print(f"{args.id}: {args.state}")
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    """Add, remove or list roles."""
    store = _open(args)
    if args.action == "list":
        _table(documents.roles(store), ["personal_number", "role", "name"])
        return 0
    if not args.personal_number:
        raise CommandFailed(f"roles {args.action} needs a personal number")
    if args.action == "add":
        if not args.role:
            raise CommandFailed("roles add needs a role: staff or technician")
        try:
            documents.add_role(store, args.personal_number, args.role, args.name)
        except documents.DocumentError as exc:
            raise CommandFailed(str(exc)) from None
        print(f"added {args.role}")
        return 0
    removed = documents.remove_role(store, args.personal_number, args.role)
    if not removed:
        raise CommandFailed("no such role")
    print(f"removed {removed} role(s)")
    return 0


def _publish(args: argparse.Namespace, publish: Callable[..., documents.SignedDocument], source: Any) -> int:
    try:
        doc = publish(_open(args), _keys(args), source)
    except (documents.DocumentError, OSError) as exc:
        raise CommandFailed(str(exc)) from None
    print(f"published {len(doc.body)} bytes, ETag {doc.etag}")
    return 0


def cmd_publish_catalogue(args: argparse.Namespace) -> int:
    """Check, sign and serve a catalogue."""
    return _publish(args, documents.publish_catalogue, args.file)


def cmd_publish_crl(args: argparse.Namespace) -> int:
    """Bundle, sign and serve CRLs."""
    return _publish(args, documents.publish_crl, args.dir)


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a kiosk."""
    if not enrolment.revoke(_open(args), args.kiosk_id):
        raise CommandFailed(f"no enrolled kiosk {args.kiosk_id} (or already revoked)")
    print(f"{args.kiosk_id}: revoked")
    return 0


def _new_password() -> str:
    """The password, typed twice without echo at a terminal, or the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise CommandFailed("the two passwords differ")
    return first


def cmd_office_user(args: argparse.Namespace) -> int:
    """Add, disable or reset a back-office user."""
    from hub.office import audit
    from hub.office.accounts import AccountError, Accounts, Role
    from hub.office.sessions import OfficeSessions

    store = _open(args)
    accounts = Accounts(store, _keys(args))
    try:
        if args.action == "add":
            if args.role is None:
                raise CommandFailed("office-user add: give --role clerk|supervisor|technician|admin")
            uri = accounts.add(args.username, Role(args.role), _new_password(), totp=args.totp)
            print(f"{args.username}: added as {args.role}")
            if uri:
                print(f"second factor (scan or type into an authenticator app): {uri}")
        elif args.action == "disable":
            accounts.disable(args.username)
            OfficeSessions(store, accounts).end_all(args.username)
            print(f"{args.username}: disabled, signed out everywhere")
        else:
            accounts.reset(args.username, _new_password())
            OfficeSessions(store, accounts).end_all(args.username)
            print(f"{args.username}: new password set, signed out everywhere")
    except AccountError as exc:
        raise CommandFailed(str(exc)) from None
    with store.write() as db:
        audit.record(db, store.now(), "command-line", f"user:{args.action}", args.username,
                     {"role": args.role} if args.role else None)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": cmd_init, "serve": cmd_serve, "enroll-code": cmd_enroll_code, "stats": cmd_stats,
    "fleet": cmd_fleet, "list": cmd_list, "open": cmd_open, "set-status": cmd_set_status,
    "roles": cmd_roles, "publish-catalogue": cmd_publish_catalogue, "publish-crl": cmd_publish_crl,
    "revoke": cmd_revoke, "migrate-db": cmd_migrate_db, "office-user": cmd_office_user,
}
"""Subcommand name → what it does."""
