"""``kiosk dev virtual-card``: a PIV ID card for vpcd, so the PKCS#11 path can be rehearsed without a card.

The card holds the demo citizen of this kiosk's data folder (``<data_dir>/demo-pki``, made on first use),
one PIN for both keys and a PUK, and answers with the Georgian ID card's ATR. pcscd must run with
vsmartcard's vpcd reader driver (Debian ``vsmartcard-vpcd``: it listens on 35963). The command prints the
settings that point the kiosk at OpenSC's module and at the demo CAs, inserts the card, and waits:
Enter pulls the card out or puts it back, Ctrl-C ends.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from kiosk.config import Settings

OPENSC_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def add_virtual_card(dev_commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``kiosk dev virtual-card`` under ``kiosk dev``."""
    card = dev_commands.add_parser("virtual-card", parents=[common], help="a virtual PIV ID card on vpcd "
                                   "(pcscd + OpenSC)", description=__doc__)
    card.add_argument("--port", type=int, default=35963, help="vpcd's port for the slot (default 35963)")
    card.add_argument("--pin", default="1234", help="the card's PIN, for both keys (default 1234)")
    card.add_argument("--puk", default="12345678", help="the card's PUK (default 12345678)")
    card.add_argument("--atr", choices=("georgian", "georgian-2025"), default="georgian",
                      help="which Georgian ID card's ATR to answer with")
    card.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                      help="wait this long before each answer (a slow chip, e.g. 0.8)")
    card.add_argument("--vanish-after", type=int, default=None, metavar="N",
                      help="leave the reader after N commands (a card pulled mid-operation)")
    card.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                      help="where the demo PKI is kept (default: the kiosk's data folder)")
    card.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the card until interrupted."""
    from hardware.demo_pki import load_or_make_demo_pki
    from hardware.virtual_piv import GEORGIAN_ATR, GEORGIAN_ATR_2025, Counter, PivCard, opensc_conf
    from hardware.vpcd_card import VirtualCard
    from kiosk.clock import utc_now

    data = args.data_dir or settings.kiosk.data_dir
    pki = load_or_make_demo_pki(data / "demo-pki", utc_now())
    anchors = pki.write_trust_anchors(data / "demo-pki" / "anchors")
    conf = opensc_conf(data / "demo-pki" / "opensc.conf")
    chip = PivCard(pki, pin=Counter(args.pin.encode()), puk=Counter(args.puk.encode()), delay_s=args.delay,
                   vanish_after=args.vanish_after)
    card = VirtualCard(args.port, atr=GEORGIAN_ATR if args.atr == "georgian" else GEORGIAN_ATR_2025, handler=chip,
                       on_power=chip.reset)
    chip.on_vanish = card.remove
    try:
        card.insert()
    except OSError as exc:
        print(f"kiosk dev virtual-card: vpcd does not answer on port {args.port} ({exc.strerror}); is pcscd running "
              "with the vsmartcard-vpcd driver?", file=sys.stderr)
        return 1
    print("A virtual PIV ID card is in vpcd's slot. Point the kiosk at it with:\n"
          f"  OPENSC_CONF={conf}\n  KIOSK_CARD_DRIVER=pkcs11\n  KIOSK_CARD_PKCS11_MODULE={OPENSC_MODULE}\n"
          f"  KIOSK_CARD_TRUST_ANCHORS={anchors}\n"
          f"PIN {args.pin} (both keys), PUK {args.puk}. Enter: pull the card out / put it back; Ctrl-C: end.",
          flush=True)
    stop = threading.Event()
    try:
        while not stop.is_set():
            line = sys.stdin.readline()
            if not line:  # standard input closed (a script): serve until killed
                stop.wait()
            elif card.inserted:
                card.remove()
                print("card out", flush=True)
            else:
                chip.reset()
                card.insert()
                print("card in", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        card.remove()
    return 0
