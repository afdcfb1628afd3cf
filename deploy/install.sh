#!/usr/bin/env bash
# Install or upgrade piPDU on Raspberry Pi OS (Bookworm or later), from the checkout this script sits in.
#
#   sudo ./deploy/install.sh                      # Mosquitto + pdu-agent + panel-agent + gateway
#   sudo ./deploy/install.sh --broker=embedded    # piPDU's own broker instead of Mosquitto
#   sudo ./deploy/install.sh --agents=pdu,gateway # no panel fitted
#   sudo ./deploy/install.sh --dry-run            # print what would be done
#
# Running it again upgrades: the new code is installed beside the old one and swapped in, then the
# services restart (a restart never switches an outlet). The previous version stays in /opt/pipdu.previous.
# docs/deployment.md explains every step; each can be done by hand instead.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/pipdu
CONF_DIR=/etc/pipdu
NODE_MAJOR=22
NODE_MIN=20.19.0
BROKER=mosquitto   # mosquitto | embedded | none (an existing broker set in /etc/pipdu/pipdu.env)
AGENTS=pdu,panel,gateway
I2C=baudrate       # baudrate (10 kHz on the hardware controller) | gpio (software I2C on bus 3) | none
NODE=nodesource    # nodesource | apt | skip
DRY_RUN=0

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
for arg in "$@"; do
  case "$arg" in
    --broker=*) BROKER="${arg#*=}" ;;
    --agents=*) AGENTS="${arg#*=}" ;;
    --i2c=*) I2C="${arg#*=}" ;;
    --node=*) NODE="${arg#*=}" ;;
    --prefix=*) PREFIX="${arg#*=}" ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; usage 2 ;;
  esac
done
case "$BROKER" in mosquitto | embedded | none) ;; *) echo "install.sh: --broker must be mosquitto, embedded or none" >&2; exit 2 ;; esac
case "$I2C" in baudrate | gpio | none) ;; *) echo "install.sh: --i2c must be baudrate, gpio or none" >&2; exit 2 ;; esac
case "$NODE" in nodesource | apt | skip) ;; *) echo "install.sh: --node must be nodesource, apt or skip" >&2; exit 2 ;; esac
for agent in ${AGENTS//,/ }; do
  case "$agent" in pdu | panel | gateway) ;; *) echo "install.sh: --agents lists pdu, panel, gateway; got $agent" >&2; exit 2 ;; esac
done

run() {
  echo "+ $*"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}
step() { echo; echo "== $*"; }

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then echo "install.sh: run as root (sudo)" >&2; exit 1; fi

step "Check the board"
if [ "$(uname -m)" = armv6l ]; then
  cat >&2 <<'EOF'
This is an ARMv6 board (original Pi Zero / Zero W / Pi 1). Current Node.js releases have no ARMv6 build,
and piPDU needs Node.js >= 20.19. Use a Pi Zero 2 W (same size and pinout) — or see docs/deployment.md,
"Original Pi Zero", for the unsupported route with an unofficial Node.js build (then rerun with --node=skip).
EOF
  [ "$NODE" = skip ] || exit 1
fi

node_ok() { command -v node >/dev/null && node -e "const [a,b]=process.versions.node.split('.').map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)"; }

step "Node.js (>= $NODE_MIN)"
if node_ok; then
  echo "node $(node --version) is fine"
elif [ "$NODE" = nodesource ]; then
  run apt-get update
  run apt-get install -y ca-certificates curl gnupg
  run bash -c "curl -fsSL https://deb.nodesource.com/setup_${NODE_MAJOR}.x | bash -"
  run apt-get install -y nodejs
elif [ "$NODE" = apt ]; then
  run apt-get update
  run apt-get install -y nodejs npm
fi
if [ "$DRY_RUN" = 0 ] && ! node_ok; then echo "install.sh: Node.js >= $NODE_MIN is needed; found $(node --version 2>/dev/null || echo none)" >&2; exit 1; fi

step "Packages: compiler for the I2C module, i2c-tools$([ "$BROKER" = mosquitto ] && echo ", Mosquitto")"
packages=(build-essential python3 i2c-tools)
[ "$BROKER" = mosquitto ] && packages+=(mosquitto mosquitto-clients)
run apt-get install -y "${packages[@]}"

step "I2C"
CONFIG_TXT=/boot/firmware/config.txt
[ -f "$CONFIG_TXT" ] || CONFIG_TXT=/boot/config.txt
if [ "$I2C" != none ]; then
  if [ "$I2C" = baudrate ]; then
    if command -v raspi-config >/dev/null; then run raspi-config nonint do_i2c 0; fi
  elif ! grep -qx i2c-dev /etc/modules 2>/dev/null; then
    # Software I2C on pins 2/3 replaces the hardware bus there (leave dtparam=i2c_arm=on out); /dev/i2c-3
    # still needs the i2c-dev module.
    echo "+ add i2c-dev to /etc/modules"
    [ "$DRY_RUN" = 1 ] || echo i2c-dev >>/etc/modules
  fi
  # The Pi's I2C controller mishandles the clock stretching the Mega does: slow the bus, or use software I2C.
  line='dtparam=i2c_arm_baudrate=10000'
  [ "$I2C" = gpio ] && line='dtoverlay=i2c-gpio,bus=3,i2c_gpio_sda=2,i2c_gpio_scl=3'
  if [ -f "$CONFIG_TXT" ] && ! grep -qxF "$line" "$CONFIG_TXT"; then
    echo "+ append '$line' to $CONFIG_TXT (takes effect after a reboot)"
    [ "$DRY_RUN" = 1 ] || printf '\n# piPDU: I2C to the Arduino Mega\n%s\n' "$line" >>"$CONFIG_TXT"
    REBOOT=1
  fi
fi

step "User pipdu (groups i2c, gpio)"
for group in i2c gpio; do getent group "$group" >/dev/null || run groupadd --system "$group"; done
if ! id pipdu >/dev/null 2>&1; then
  run useradd --system --user-group --home-dir /var/lib/pipdu --no-create-home --shell /usr/sbin/nologin pipdu
fi
run usermod -a -G i2c,gpio pipdu

step "Code in $PREFIX (previous version kept in $PREFIX.previous)"
run rm -rf "$PREFIX.next"
run mkdir -p "$PREFIX.next"
echo "+ copy $SRC to $PREFIX.next (without .git, node_modules, state)"
if [ "$DRY_RUN" = 0 ]; then
  tar -C "$SRC" --exclude=./.git --exclude=./node_modules --exclude=./state -cf - . | tar -C "$PREFIX.next" -xf -
fi
# Everything to compile the TypeScript (npm ci builds dist/), then only production dependencies are
# kept; i2c-bus compiles here (a few minutes on a Pi Zero 2 W). The compiled build needs about 38 MB
# less per process than running the sources through tsx.
run bash -c "cd '$PREFIX.next' && npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund"
run chown -R root:root "$PREFIX.next"
if [ -d "$PREFIX" ]; then run rm -rf "$PREFIX.previous"; run mv "$PREFIX" "$PREFIX.previous"; fi
run mv "$PREFIX.next" "$PREFIX"

step "Configuration in $CONF_DIR (existing files are kept)"
run install -d -m 0750 -o root -g pipdu "$CONF_DIR"
if [ ! -f "$CONF_DIR/pipdu.env" ]; then
  run install -m 0640 -o root -g pipdu "$SRC/deploy/env/pipdu.env.example" "$CONF_DIR/pipdu.env"
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  echo "+ set PIPDU_MQTT_PASSWORD in $CONF_DIR/pipdu.env to a new random password"
  [ "$DRY_RUN" = 1 ] || sed -i "s|^PIPDU_MQTT_PASSWORD=.*|PIPDU_MQTT_PASSWORD=$password|" "$CONF_DIR/pipdu.env"
fi
# shellcheck disable=SC1091
[ "$DRY_RUN" = 1 ] || . "$CONF_DIR/pipdu.env"

units=()
case "$BROKER" in
  mosquitto)
    step "Mosquitto (set_tcp_nodelay, persistence, user ${PIPDU_MQTT_USERNAME:-pipdu})"
    run install -m 0644 "$SRC/deploy/mosquitto/pipdu.conf" /etc/mosquitto/conf.d/pipdu.conf
    [ -f /etc/mosquitto/passwd ] || run install -m 0640 -o root -g mosquitto /dev/null /etc/mosquitto/passwd
    echo "+ mosquitto_passwd -b /etc/mosquitto/passwd ${PIPDU_MQTT_USERNAME:-pipdu} ***"
    [ "$DRY_RUN" = 1 ] || mosquitto_passwd -b /etc/mosquitto/passwd "${PIPDU_MQTT_USERNAME:-pipdu}" "$PIPDU_MQTT_PASSWORD"
    # Mosquitto reads the file as user mosquitto; mosquitto_passwd may have rewritten it as root-only.
    run chown root:mosquitto /etc/mosquitto/passwd
    run chmod 0640 /etc/mosquitto/passwd
    run systemctl enable mosquitto
    run systemctl restart mosquitto
    ;;
  embedded)
    step "Embedded broker (pipdu-broker.service)"
    if [ ! -f "$CONF_DIR/passwd" ]; then
      # A Mosquitto-compatible password file ($7$ hashes); the password goes in on stdin, not the command line.
      echo "+ pipdu passwd $CONF_DIR/passwd ${PIPDU_MQTT_USERNAME:-pipdu} <<< ***"
      if [ "$DRY_RUN" = 0 ]; then
        (cd "$PREFIX" && node bin/pipdu.js passwd "$CONF_DIR/passwd" "${PIPDU_MQTT_USERNAME:-pipdu}" <<<"$PIPDU_MQTT_PASSWORD")
      fi
      run chown root:pipdu "$CONF_DIR/passwd"
      run chmod 0640 "$CONF_DIR/passwd"
    fi
    if [ ! -f "$CONF_DIR/broker.env" ]; then
      echo "+ write $CONF_DIR/broker.env (listen on the network, password file)"
      [ "$DRY_RUN" = 1 ] || printf 'PIPDU_BROKER_HOST=0.0.0.0\nPIPDU_BROKER_PASSWORD_FILE=%s/passwd\n' "$CONF_DIR" | install -m 0640 -o root -g pipdu /dev/stdin "$CONF_DIR/broker.env"
    fi
    units+=(pipdu-broker)
    ;;
esac

step "systemd units"
for agent in ${AGENTS//,/ }; do units+=("pipdu-$agent"); done
for unit in "${units[@]}"; do run install -m 0644 "$SRC/deploy/systemd/$unit.service" /etc/systemd/system/; done
run systemctl daemon-reload
for unit in "${units[@]}"; do run systemctl enable "$unit"; run systemctl restart "$unit"; done

echo
echo "piPDU installed: ${units[*]}."
echo "  logs:   journalctl -u pipdu-pdu -f"
echo "  config: $CONF_DIR/pipdu.env (then: sudo systemctl restart ${units[*]})"
if [ "$I2C" = gpio ]; then echo "  software I2C is bus 3: set PIPDU_I2C_BUS=3 in $CONF_DIR/pipdu.env."; fi
if [ "${REBOOT:-0}" = 1 ]; then echo "  I2C settings changed in $CONFIG_TXT: reboot now (sudo reboot)."; fi
