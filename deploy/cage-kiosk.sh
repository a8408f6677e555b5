#!/bin/sh
# The kiosk session: the cage Wayland compositor showing one application, `kiosk run`, full screen.
#
# Started by deploy/community-kiosk.service (systemd, recommended) or from an autologin shell
# (see deploy/README-deploy.md). cage has no desktop, no panels, no window switching; without
# -s it also keeps Ctrl+Alt+F1..F12 from switching to another console. When the kiosk exits,
# cage exits, and systemd (Restart=always) or the autologin starts the session again.
#
# Kivy's bundled SDL2 speaks X11 (not Wayland), so the kiosk runs through cage's Xwayland
# (Debian package xwayland); SDL_VIDEODRIVER=kmsdrm without cage is the fallback the README names.
set -eu

KIOSK_HOME=${KIOSK_HOME:-/opt/community-kiosk}
KIOSK_BIN=${KIOSK_BIN:-$KIOSK_HOME/.venv/bin/kiosk}
KIOSK_CONFIG=${KIOSK_CONFIG:-/etc/community-kiosk/kiosk.toml}

if [ "${1:-}" = "--inside-cage" ]; then
    # systemd set WATCHDOG_PID to the unit's main process, cage; the watchdog pings come from the
    # kiosk, which replaces this shell (exec) and so has this shell's pid.
    if [ -n "${WATCHDOG_USEC:-}" ]; then
        WATCHDOG_PID=$$
        export WATCHDOG_PID
    fi
    SDL_VIDEODRIVER=${SDL_VIDEODRIVER:-x11}
    export SDL_VIDEODRIVER
    exec "$KIOSK_BIN" run --config "$KIOSK_CONFIG"
fi

if ! command -v cage >/dev/null 2>&1; then
    echo "cage-kiosk: cage is not installed (apt-get install cage xwayland)" >&2
    exit 1
fi
# -d: no client-side window decorations.
exec cage -d -- "$0" --inside-cage
