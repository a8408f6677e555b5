"""``kiosk hub ...``: set up and serve the reference hub, and its back office.

Hub commands work on the hub's database (``--db``) and ignore the kiosk's settings. FastAPI and
uvicorn (the ``hub`` extra) are imported only when a command needs them, so a kiosk without the
extra still starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

STATES = ("received", "in_progress", "closed", "rejected")


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register ``hub`` and its subcommands."""
    hub = subparsers.add_parser("hub", parents=[common], help="the reference central hub and its back office",
                                description="Set up and run the reference hub kiosks sync with, and "
                                "look after what they sent. Every command names the hub database with --db.")
    sub = hub.add_subparsers(dest="hub_command", required=True, metavar="HUB_COMMAND")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", default=os.environ.get("KIOSK_HUB_DB"), metavar="PATH|URL",
                    help="the hub's database: a SQLite file (sqlite:///PATH) or postgresql://user@host/name "
                    "(default: $KIOSK_HUB_DB, which keeps a password out of `ps`)")
    db.add_argument("--keys", type=Path, default=os.environ.get("KIOSK_HUB_KEYS") or None, metavar="DIR",
                    help="the folder of the hub's keys, seal.key and sign.key (default: $KIOSK_HUB_KEYS; "
                    "a SQLite hub without it keeps them beside the file)")

    def command(name: str, help_text: str, description: str, json_flag: bool = False) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common, db], help=help_text, description=description)
        if json_flag:
            parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.set_defaults(handler=run)
        return parser

    command("init", "create the database and the hub's keys",
            "Create the database's tables (or bring its schema up to date: Alembic migrations) and, once, the "
            "hub's sealing and signing keys in 0600 files (--keys DIR, or beside a SQLite file as <db>.seal.key "
            "and <db>.sign.key). Existing keys are never replaced: losing the sealing key loses every request.")
    serve = command("serve", "serve the sync protocol over HTTP",
                    "Serve the sync protocol (docs/sync-protocol.md; OpenAPI at /openapi.json; Prometheus "
                    "figures at /metrics). Put a TLS reverse proxy in front of it anywhere but on a test bench "
                    "(deploy/hub/).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    serve.add_argument("--workers", type=int, default=1,
                       help="hub processes sharing the port (PostgreSQL only; about one per core; default 1)")
    serve.add_argument("--max-connections", type=int, default=1000,
                       help="connections one process serves at once; beyond, 503 (default 1000)")
    serve.add_argument("--body-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="longest pause while a client sends a body before it is dropped with 408 (default 60)")
    serve.add_argument("--pool-size", type=int, default=8,
                       help="database connections per process, as many again in bursts (PostgreSQL; default 8)")
    serve.add_argument("--log-format", choices=("text", "json"), default="text",
                       help="log lines on stderr as text or as one JSON object each (default text)")
    serve.add_argument("--public-url", default=os.environ.get("KIOSK_HUB_PUBLIC_URL"), metavar="URL",
                       help="where villagers' phones reach this hub, e.g. https://hub.example.ge (receipts' QR codes "
                       "open URL/r/...; kiosks learn it at enrolment; default $KIOSK_HUB_PUBLIC_URL)")
    serve.add_argument("--sms-gateway", default=os.environ.get("KIOSK_HUB_SMS_GATEWAY"), metavar="URL",
                       help="Kannel's sendsms URL with its credentials, e.g. http://127.0.0.1:13013/cgi-bin/sendsms?"
                       "username=U&password=P: text villagers when their request changes state "
                       "(default $KIOSK_HUB_SMS_GATEWAY)")
    serve.add_argument("--trust-anchors", type=Path, default=os.environ.get("KIOSK_HUB_TRUST_ANCHORS") or None,
                       metavar="DIR", help="folder of the ID cards' CA certificates (PEM or DER): every request "
                       "must then carry the card's proof of presence, and \"my requests\" answers from every centre "
                       "(default $KIOSK_HUB_TRUST_ANCHORS; without it requests are taken on the kiosk's signature)")
    serve.add_argument("--personal-number-field", default=os.environ.get("KIOSK_HUB_PERSONAL_NUMBER_FIELD",
                                                                         "serialNumber"),
                       choices=("serialNumber", "commonName", "givenName", "surname"),
                       help="the certificate subject field holding the personal number, as the kiosks' "
                       "[card] personal_number_field (default serialNumber)")
    code = command("enroll-code", "print a one-time enrolment code",
                   "Print a one-time code a technician types into `kiosk enroll`. Only its hash is stored.")
    code.add_argument("--valid-hours", type=float, default=24.0, help="how long the code works (default 24)")
    command("stats", "submissions, duplicates and counts per state",
            "Print how many submissions the hub holds, how many re-sends it answered 'duplicate', "
            "and counts per state.", json_flag=True)
    command("fleet", "kiosks with their last heartbeat",
            "List every kiosk with its last heartbeat, version, queue depth, printer and reader state.",
            json_flag=True)
    listing = command("list", "list submissions (facts only, never the payload)",
                      "List submissions newest first: id, kiosk, receipt number, service, state.", json_flag=True)
    listing.add_argument("--state", choices=STATES, help="only submissions in this state")
    listing.add_argument("--kiosk", metavar="KIOSK_ID", help="only submissions from this kiosk")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    opener = command("open", "decrypt one submission and print it",
                     "Open a submission's sealed payload with the hub's private key and print it as JSON.")
    opener.add_argument("id", help="submission id")
    opener.add_argument("--kiosk", metavar="KIOSK_ID", help="the kiosk that sent it (when several sent that id)")
    status = command("set-status", "change a submission's state (it flows back to the kiosk)",
                     "Set a submission's state; the kiosk that sent it learns it from /v1/statuses.")
    status.add_argument("id", help="submission id")
    status.add_argument("state", choices=STATES)
    status.add_argument("--reason", default=None, help="why (shown to the citizen for 'rejected')")
    status.add_argument("--kiosk", metavar="KIOSK_ID", help="the kiosk that sent it (when several sent that id)")
    roles = command("roles", "staff and technicians, by personal number",
                    "Add, remove or list the people kiosks let into staff or technician mode (a signed "
                    "list kiosks fetch from /v1/roles).")
    roles.add_argument("action", choices=("add", "remove", "list"))
    roles.add_argument("personal_number", nargs="?", help="11-digit personal number from the ID card")
    roles.add_argument("role", nargs="?", choices=("staff", "technician"), help="the role (remove: all if omitted)")
    roles.add_argument("--name", default="", help="the person's name, shown on the kiosk")
    catalogue = command("publish-catalogue", "publish a service catalogue to every kiosk",
                        "Check a catalogue JSON file as kiosks will read it, sign it and serve it at /v1/catalogue.")
    catalogue.add_argument("file", type=Path)
    crl = command("publish-crl", "publish the certificate revocation lists",
                  "Bundle every CRL (.crl/.der/.pem) in a folder, sign it and serve it at /v1/crl.")
    crl.add_argument("dir", type=Path)
    revoke = command("revoke", "refuse every further request from a kiosk (stolen, retired)",
                     "Revoke a kiosk: the hub answers its requests 401 unknown_kiosk from now on.")
    revoke.add_argument("kiosk_id")
    users = command("office-user", "people of the back office on the web (/office/)",
                    "Add a back-office user (the password is typed twice at a terminal, or read from standard "
                    "input), disable one (their sessions end), or reset a password. --totp enrols a second factor "
                    "and prints its otpauth:// URI for an authenticator app.")
    users.add_argument("action", choices=("add", "disable", "reset"))
    users.add_argument("username")
    users.add_argument("--role", choices=("clerk", "supervisor", "technician", "admin"),
                       help="add: what they may do (clerk: requests, technician: kiosks, supervisor: figures, "
                       "admin: all)")
    users.add_argument("--totp", action="store_true", help="add: enrol a TOTP second factor")
    move = sub.add_parser("migrate-db", parents=[common],
                          help="copy a hub's database into a new one (SQLite → PostgreSQL)",
                          description="Copy every row of a hub database into another, empty one with the same schema "
                          "(e.g. a pilot's SQLite file onto PostgreSQL), then check the row counts on both sides. "
                          "Stop the hub first. The keys stay where they are: copy them with it.")
    move.add_argument("--from", dest="source", required=True, metavar="PATH|URL", help="the database to copy")
    move.add_argument("--to", dest="target", required=True, metavar="URL", help="the new, empty database")
    move.set_defaults(handler=run)


def run(_settings: Any, args: argparse.Namespace) -> int:
    """Run one hub command; 0 on success, 1 with a message on stderr otherwise."""
    from hub.commands import COMMANDS, CommandFailed
    from hub.text import escape_controls

    try:
        return COMMANDS[args.hub_command](args)
    except CommandFailed as exc:  # the message may quote a file or an id as typed: no raw escapes
        print(f"kiosk hub {args.hub_command}: {escape_controls(str(exc))}", file=sys.stderr)
        return 1
