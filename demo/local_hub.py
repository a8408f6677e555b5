"""A hub served from a thread of this process: the demo's "local hub" on 127.0.0.1.

``kiosk demo`` starts one in its data folder, enrols the demo kiosk with it over HTTP like a
technician would (``kiosk hub enroll-code`` + ``kiosk enroll``), and syncs to it, so the whole
path — sealing, signing, batches, statuses — runs in the demo too.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from hub import enrolment
from hub.keys import HubKeys, ensure_keys
from hub.store import HubDatabase, utc_now
from kiosk.config import Settings
from offline.enrollment import NotEnrolled, enroll, load_enrollment

DEMO_PORT = 8765  # stable across demo runs when free, so the enrolment's URL stays right


@dataclass
class LocalHub:
    """A running in-process hub: its URL, database, keys, and how to stop it."""

    url: str
    db_path: Path
    keys: HubKeys
    store: HubDatabase
    _stop: Callable[[], None]

    def enroll_code(self, valid_hours: float = 1) -> str:
        """A one-time enrolment code, as ``kiosk hub enroll-code`` prints."""
        return enrolment.make_code(self.store, dt.timedelta(hours=valid_hours))

    def stop(self) -> None:
        """Stop serving and close the database."""
        self._stop()

    def __enter__(self) -> LocalHub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        if port == 0:
            raise
        sock.close()
        return _bind(host, 0)  # the preferred port is taken: any free one will do
    return sock


def serve_in_thread(db_path: Path, *, host: str = "127.0.0.1", port: int = 0,
                    clock: Callable[[], dt.datetime] = utc_now, trust_anchors: Path | None = None) -> LocalHub:
    """Initialise the hub at ``db_path`` if new (schema and keys) and serve it from a daemon thread;
    with ``trust_anchors`` (the demo PKI's CA folder) it checks every request's proof of presence."""
    import uvicorn

    from hub.app import create_app
    from hub.presence import verifier_for
    from protocol.certificates import load_trust_anchors

    db_path.parent.mkdir(parents=True, exist_ok=True)
    keys = ensure_keys(db_path)
    store = HubDatabase(db_path, clock)
    sock = _bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"  # also the public URL: the receipts' QR codes open its pages
    presence = verifier_for(keys, load_trust_anchors(trust_anchors), clock) if trust_anchors else None
    server = uvicorn.Server(uvicorn.Config(create_app(store, keys, public_url=url, presence=presence),
                                           log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="local-hub", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError("the local hub did not start")
        threading.Event().wait(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()
        store.close()

    return LocalHub(url, db_path, keys, store, stop)


DEMO_OFFICE_USERS = (("demo-clerk", "clerk"), ("demo-tech", "technician"), ("demo-admin", "admin"))


def demo_office_password(hub: LocalHub) -> str:
    """The demo back office's people (a clerk, a technician, an admin), made once with one random password,
    kept 0600 beside the hub's database so each demo run prints the same login."""
    from hub.office.accounts import Accounts, Role

    kept = hub.db_path.with_name("office-password")
    if kept.exists():
        password = kept.read_text(encoding="ascii").strip()
    else:
        password = secrets.token_urlsafe(12)
        fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(password + "\n")
    accounts = Accounts(hub.store, hub.keys)
    for username, role in DEMO_OFFICE_USERS:
        if accounts.role_of(username) is None:
            accounts.add(username, Role(role), password)
    return password


def enroll_with_local_hub(settings: Settings, trust_anchors: Path | None = None) -> LocalHub:
    """The demo's hub: serve it from this process and enrol the demo kiosk with it (once per hub)."""
    data = settings.kiosk.data_dir
    hub = serve_in_thread(data / "local-hub" / "hub.db", port=DEMO_PORT, trust_anchors=trust_anchors)
    try:
        enrolled = load_enrollment(data)
    except NotEnrolled:
        enrolled = None
    seal = base64.b64encode(hub.keys.seal_public).decode("ascii")
    if (enrolled is None or enrolled.hub_url != hub.url or enrolled.hub_seal_public_key != seal
            or enrolled.hub_public_url != hub.url):
        enroll(requests.Session(), hub.url, hub.enroll_code(), data, name=f"demo {settings.kiosk.kiosk_id}",
               clock=utc_now, force=True)
    return hub
