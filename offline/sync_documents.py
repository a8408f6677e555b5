"""The CRL bundle the hub signs, unpacked where the certificate validator reads it.

CRLs go into the folder the certificate validator reads (``[card] crl_dir``, default
``<data_dir>/crl``) as ``hub-<digest>.crl``, each written atomically, the stale ones removed
after: a reader sees the old set, the new set, or their union — never a half-written file.
(The role list is kept by ``kiosk.roles.RoleStore``; the catalogue by ``kiosk.catalogue_store``.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path

from cryptography import x509

from offline.atomic_files import fsync_dir, write_atomic
from offline.hub_client import HubAnswerInvalid

CRL_PREFIX = "hub-"


def write_crl_bundle(body: bytes, folder: Path) -> int:
    """Replace the hub's CRLs in ``folder`` with the bundle's; ``HubAnswerInvalid`` (nothing written) if any is bad."""
    try:
        encoded = json.loads(body)["crls"]
        blobs = [base64.b64decode(text, validate=True) for text in encoded]
        for blob in blobs:
            x509.load_der_x509_crl(blob)  # garbage never reaches the validator's folder
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise HubAnswerInvalid("CRL bundle has the wrong shape") from None
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for blob in blobs:
        path = folder / f"{CRL_PREFIX}{hashlib.sha256(blob).hexdigest()[:24]}.crl"
        wanted.add(path.name)
        if not path.exists():
            write_atomic(path, blob)
    for stale in folder.glob(f"{CRL_PREFIX}*.crl"):
        if stale.name not in wanted:
            stale.unlink()
    fsync_dir(folder)
    return len(blobs)
