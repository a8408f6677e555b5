"""Wiring of the privileged side of the kiosk (audit log, role gate, staff desk), called by the composition root."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from kiosk.audit import open_audit_log, record_configuration
from kiosk.config import ConfigError, Settings
from kiosk.diag_system import redacted_config
from kiosk.i18n import Translator
from kiosk.journey import Journey
from kiosk.passcode import PasscodeGate, PasscodeHashInvalid
from kiosk.ports import ReceiptPrinter
from kiosk.roles import AccessGate, RoleStore
from kiosk.services import Privileged
from kiosk.staff import StaffDesk
from kiosk.submission import SubmitterConfig
from kiosk.technician import current_hub_page, pinned_hub, record_enrolment
from offline.outbox import Outbox
from protocol.catalogue import Catalogue

PASSCODE_STATE_FILE = "passcode-tries.json"


def build_privileged(settings: Settings, *, outbox: Outbox, printer: ReceiptPrinter | None,
                     catalogue: Callable[[], Catalogue], translator: Translator, journey: Journey,
                     clock: Callable[[], dt.datetime]) -> Privileged:
    """Open the audit log, note configuration or enrolment changes, build the gate and the staff desk."""
    data = settings.kiosk.data_dir
    access_settings = settings.access
    try:
        passcode = PasscodeGate(access_settings.technician_passcode_hash, max_tries=access_settings.passcode_max_tries,
                                lockout_s=access_settings.passcode_lockout_s, state_path=data / PASSCODE_STATE_FILE,
                                clock=clock)
    except PasscodeHashInvalid as exc:
        raise ConfigError(f"access.technician_passcode_hash: {exc}") from None
    audit = open_audit_log(data, clock)
    record_configuration(audit, redacted_config(settings, fingerprint_secrets=True))
    record_enrolment(audit, data)
    access = AccessGate(RoleStore(data, pinned_hub(data)), passcode, audit, clock)
    staff = StaffDesk(outbox=outbox, audit=audit, printer=printer, catalogue=catalogue, tr=translator,
                      config=SubmitterConfig(settings.kiosk.kiosk_id, settings.kiosk.centre_name,
                                             settings.receipt.status_url, settings.kiosk.zone,
                                             functools.partial(current_hub_page, data)))
    journey.subscribe(lambda step: staff.on_step(step, journey.session))
    return Privileged(audit, access, staff)
