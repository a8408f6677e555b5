"""Requests are sealed to the hub the kiosk is enrolled with now, even after an enrolment at run time."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from nacl.public import PrivateKey

from entrypoints.bootstrap import CurrentHubSealer, _demo_hardware
from kiosk.config import load_settings
from offline.enrollment import ENROLLMENT_FILE
from protocol.sealing import open_sealed
from tests.fixtures.clock import WORLD_NOW


def test_sealer_follows_a_new_enrolment_without_a_restart(tmp_path: Path) -> None:
    """GIVEN a demo kiosk sealing to the demo hub key WHEN an enrolment with another hub is written
    THEN the next payload opens only with the new hub's private key."""
    settings = load_settings(None, env={"KIOSK_KIOSK_DATA_DIR": str(tmp_path)}).simulated(tmp_path)
    demo = _demo_hardware(settings, lambda: WORLD_NOW)
    sealer = CurrentHubSealer(settings, demo)
    assert open_sealed(demo.hub_private_key, sealer.seal({"n": 1})) == {"n": 1}

    new_hub = PrivateKey.generate()
    (tmp_path / "device-test.key").write_bytes(b"\x01" * 32)
    (tmp_path / ENROLLMENT_FILE).write_text(json.dumps({
        "hub_url": "http://127.0.0.1:9", "kiosk_id": "k-test", "enrolled_at": "2026-11-21T00:00:00+00:00",
        "hub_seal_public_key": base64.b64encode(bytes(new_hub.public_key)).decode(),
        "hub_sign_public_key": base64.b64encode(b"\x02" * 32).decode(), "device_key_file": "device-test.key",
    }))
    sealed = sealer.seal({"n": 2})
    assert open_sealed(bytes(new_hub), sealed) == {"n": 2}
    try:
        open_sealed(demo.hub_private_key, sealed)
    except Exception:
        pass
    else:
        raise AssertionError("the old hub key still opens requests sealed after the new enrolment")
