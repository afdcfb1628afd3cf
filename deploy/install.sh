#!/usr/bin/env bash
# Install or upgrade piPDU on Raspberry Pi OS (Bookworm or later), from a release tarball.
#
#   sudo ./deploy/install.sh --tarball=pipdu-0.1.0.tgz   # Mosquitto + pdu-agent + panel (I2C) + gateway
#   sudo ./deploy/install.sh --broker=embedded    # piPDU's own broker instead of Mosquitto
#   sudo ./deploy/install.sh --agents=pdu,gateway # no panel fitted; --panel=gpio for buttons on GPIO pins
#   sudo ./deploy/install.sh --dry-run            # print what would be done
#
# The code comes from a release tarball (npm pack: compiled, nothing to build on the Pi); without --tarball
# one is made from this checkout (npm ci + npm pack: ~500 MB of RAM, so on a Pi Zero make it elsewhere).
# Running it again upgrades: the new code is installed beside the old one and swapped in, then the services
# restart (a restart never switches an outlet). The previous version stays in /opt/pipdu.previous; passwords
# and the gateway token in /etc/pipdu are kept. docs/deployment.md explains every step.
#
# Options: --tarball=FILE  --broker=mosquitto|embedded|none  --agents=pdu,panel,gateway
#          --panel=i2c|gpio|sim  --i2c=baudrate|gpio|none  --node=nodesource|apt|skip
#          --prefix=/opt/pipdu  --conf-dir=/etc/pipdu  --dry-run  --help
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/pipdu
NODE_MAJOR=22
NODE_MIN=20.19.0
BROKER=mosquitto   # mosquitto | embedded | none (an existing broker set in /etc/pipdu/pipdu.env)
AGENTS=pdu,panel,gateway
I2C=baudrate       # baudrate (10 kHz on the hardware controller) | gpio (software I2C on bus 3) | none
NODE=nodesource    # nodesource | apt | skip
PANEL=i2c          # i2c (LCD + MCP23017s) | gpio (buttons and LEDs on Pi pins) | sim (a web page)
TARBALL=
CONF_DIR=/etc/pipdu
DRY_RUN=0

run() {
  echo "+ $*"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}
step() { echo; echo "== $*"; }

# The value of NAME in an env file (empty when the file or the line is missing).
get_var() { if [ -f "$1" ]; then sed -n "s/^$2=//p" "$1" | tail -n 1; fi; }
# Set NAME=VALUE in an env file, replacing the line or adding it.
set_var() {
  if grep -q "^$2=" "$1"; then sed -i "s|^$2=.*|$2=$3|" "$1"; else printf '%s=%s\n' "$2" "$3" >>"$1"; fi
}
random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | cut -c 1-24; }
# Keep a secret already in FILE (a re-run or an upgrade never changes it); otherwise make a new one.
ensure_secret() {
  local file="$1" name="$2" current
  current="$(get_var "$file" "$name")"
  if [ -n "$current" ] && [ "$current" != change-me ]; then
    echo "+ keep $name in $file"
  else
    echo "+ set $name in $file to a new random secret"
    [ "$DRY_RUN" = 1 ] || set_var "$file" "$name" "$(random_secret)"
  fi
}
# An env file for one part: root:pipdu 0640, from an example when there is one; existing files are kept.
ensure_env_file() {
  local file="$1" example="${2:-}"
  [ -f "$file" ] && return 0
  if [ -n "$example" ]; then
    run install -m 0640 -o root -g pipdu "$example" "$file"
  else
    run install -m 0640 -o root -g pipdu /dev/null "$file"
  fi
}
# The broker users of piPDU's parts and their env files (deploy/mosquitto/pipdu.acl says what each may do).
PART_USERS=(pipdu-agent pipdu-panel pipdu-gateway homeassistant pipdu-reader)
user_file() {
  case "$1" in
    pipdu-agent) echo "$CONF_DIR/pdu.env" ;;
    pipdu-panel) echo "$CONF_DIR/panel.env" ;;
    pipdu-gateway) echo "$CONF_DIR/gateway.env" ;;
    *) echo "$CONF_DIR/mqtt-clients.env" ;;
  esac
}
user_var() {
  case "$1" in
    homeassistant) echo HA_MQTT_PASSWORD ;;
    pipdu-reader) echo READER_MQTT_PASSWORD ;;
    *) echo PIPDU_MQTT_PASSWORD ;;
  esac
}

# Sourced with INSTALL_SH_LIB=1 (the tests): only the helpers above, nothing is done.
# shellcheck disable=SC2317
if [ "${INSTALL_SH_LIB:-0}" = 1 ]; then return 0 2>/dev/null || exit 0; fi

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
for arg in "$@"; do
  case "$arg" in
    --broker=*) BROKER="${arg#*=}" ;;
    --agents=*) AGENTS="${arg#*=}" ;;
    --i2c=*) I2C="${arg#*=}" ;;
    --node=*) NODE="${arg#*=}" ;;
    --prefix=*) PREFIX="${arg#*=}" ;;
    --panel=*) PANEL="${arg#*=}" ;;
    --tarball=*) TARBALL="${arg#*=}" ;;
    --conf-dir=*) CONF_DIR="${arg#*=}" ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; usage 2 ;;
  esac
done
case "$BROKER" in mosquitto | embedded | none) ;; *) echo "install.sh: --broker must be mosquitto, embedded or none" >&2; exit 2 ;; esac
case "$I2C" in baudrate | gpio | none) ;; *) echo "install.sh: --i2c must be baudrate, gpio or none" >&2; exit 2 ;; esac
case "$NODE" in nodesource | apt | skip) ;; *) echo "install.sh: --node must be nodesource, apt or skip" >&2; exit 2 ;; esac
case "$PANEL" in i2c | gpio | sim) ;; *) echo "install.sh: --panel must be i2c, gpio or sim" >&2; exit 2 ;; esac
if [ -n "$TARBALL" ] && [ ! -f "$TARBALL" ]; then echo "install.sh: --tarball: no file $TARBALL" >&2; exit 2; fi
for agent in ${AGENTS//,/ }; do
  case "$agent" in pdu | panel | gateway) ;; *) echo "install.sh: --agents lists pdu, panel, gateway; got $agent" >&2; exit 2 ;; esac
done

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

step "Code in $PREFIX from the release tarball (previous version kept in $PREFIX.previous)"
if [ -z "$TARBALL" ]; then
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$SRC/package.json")"
  if [ -f "$SRC/tsconfig.json" ]; then
    # A checkout: compile and pack it (prepack builds dist/).
    run bash -c "cd '$SRC' && npm ci --no-audit --no-fund && npm pack --pack-destination '$WORK'"
  else
    # An unpacked release: it carries its build already.
    run bash -c "cd '$SRC' && npm pack --ignore-scripts --pack-destination '$WORK'"
  fi
  TARBALL="$WORK/pipdu-$version.tgz"
fi
run rm -rf "$PREFIX.next"
run mkdir -p "$PREFIX.next"
run tar -xzf "$TARBALL" -C "$PREFIX.next" --strip-components=1 --no-same-owner
# Production dependencies only: no TypeScript, nothing compiled but the I2C module (a few minutes on a
# Pi Zero 2 W). The shipped build (dist/) needs about 38 MB less per process than the sources through tsx.
run bash -c "cd '$PREFIX.next' && npm install --omit=dev --no-audit --no-fund"
run chown -R root:root "$PREFIX.next"
if [ -d "$PREFIX" ]; then run rm -rf "$PREFIX.previous"; run mv "$PREFIX" "$PREFIX.previous"; fi
run mv "$PREFIX.next" "$PREFIX"
# `pipdu config check`, `pipdu ha remove`, `pipdu passwd` … for the operator.
run ln -sfn "$PREFIX/bin/pipdu.js" /usr/local/bin/pipdu

step "Configuration in $CONF_DIR (existing files and secrets are kept)"
run install -d -m 0750 -o root -g pipdu "$CONF_DIR"
ensure_env_file "$CONF_DIR/pipdu.env" "$SRC/deploy/env/pipdu.env.example"
ensure_env_file "$CONF_DIR/pdu.env"
ensure_env_file "$CONF_DIR/panel.env" "$SRC/deploy/env/panel.env.example"
ensure_env_file "$CONF_DIR/gateway.env" "$SRC/deploy/env/gateway.env.example"
ensure_env_file "$CONF_DIR/mqtt-clients.env"
run chmod 0600 "$CONF_DIR/mqtt-clients.env"
# The panel driver is always written out: a panel without one would run the simulated page.
echo "+ set PIPDU_PANEL_DRIVER=$PANEL in $CONF_DIR/panel.env"
[ "$DRY_RUN" = 1 ] || set_var "$CONF_DIR/panel.env" PIPDU_PANEL_DRIVER "$PANEL"
# Switching over HTTP and the PDUDaemon API needs this token (docs/security.md, "The gateway").
ensure_secret "$CONF_DIR/gateway.env" PIPDU_GATEWAY_TOKEN
for user in "${PART_USERS[@]}"; do
  file="$(user_file "$user")"
  if [ "$(user_var "$user")" = PIPDU_MQTT_PASSWORD ]; then
    echo "+ set PIPDU_MQTT_USERNAME=$user in $file"
    [ "$DRY_RUN" = 1 ] || set_var "$file" PIPDU_MQTT_USERNAME "$user"
  fi
  ensure_secret "$file" "$(user_var "$user")"
done

# Adds (or updates) every part's broker user with the password from its env file.
add_users() {
  local user password
  for user in "${PART_USERS[@]}"; do
    password="$(get_var "$(user_file "$user")" "$(user_var "$user")")"
    case "$1" in
      mosquitto)
        echo "+ mosquitto_passwd -b /etc/mosquitto/passwd $user ***"
        [ "$DRY_RUN" = 1 ] || mosquitto_passwd -b /etc/mosquitto/passwd "$user" "$password"
        ;;
      embedded)
        echo "+ pipdu passwd $CONF_DIR/passwd $user <<< ***"
        [ "$DRY_RUN" = 1 ] || node "$PREFIX/bin/pipdu.js" passwd "$CONF_DIR/passwd" "$user" <<<"$password" >/dev/null
        ;;
    esac
  done
}

units=()
case "$BROKER" in
  mosquitto)
    step "Mosquitto (set_tcp_nodelay, persistence, users ${PART_USERS[*]}, ACL)"
    run install -m 0644 "$SRC/deploy/mosquitto/pipdu.conf" /etc/mosquitto/conf.d/pipdu.conf
    run install -m 0640 -o root -g mosquitto "$SRC/deploy/mosquitto/pipdu.acl" /etc/mosquitto/pipdu.acl
    [ -f /etc/mosquitto/passwd ] || run install -m 0640 -o root -g mosquitto /dev/null /etc/mosquitto/passwd
    add_users mosquitto
    # Mosquitto reads the file as user mosquitto; mosquitto_passwd may have rewritten it as root-only.
    run chown root:mosquitto /etc/mosquitto/passwd
    run chmod 0640 /etc/mosquitto/passwd
    run systemctl enable mosquitto
    run systemctl restart mosquitto
    ;;
  embedded)
    step "Embedded broker (pipdu-broker.service, users ${PART_USERS[*]}, ACL)"
    # Debian's mosquitto package starts a broker on 1883, the embedded broker's port.
    if systemctl list-unit-files mosquitto.service >/dev/null 2>&1; then run systemctl disable --now mosquitto; fi
    # A Mosquitto-compatible password file ($7$ hashes); passwords go in on stdin, not the command line.
    add_users embedded
    run install -m 0640 -o root -g pipdu "$SRC/deploy/mosquitto/pipdu.acl" "$CONF_DIR/pipdu.acl"
    run chown root:pipdu "$CONF_DIR/passwd"
    run chmod 0640 "$CONF_DIR/passwd"
    ensure_env_file "$CONF_DIR/broker.env"
    for line in PIPDU_BROKER_HOST=0.0.0.0 "PIPDU_BROKER_PASSWORD_FILE=$CONF_DIR/passwd" "PIPDU_BROKER_ACL_FILE=$CONF_DIR/pipdu.acl"; do
      if [ -z "$(get_var "$CONF_DIR/broker.env" "${line%%=*}")" ]; then
        echo "+ set $line in $CONF_DIR/broker.env"
        [ "$DRY_RUN" = 1 ] || set_var "$CONF_DIR/broker.env" "${line%%=*}" "${line#*=}"
      fi
    done
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
echo "  config: $CONF_DIR/pipdu.env and pdu.env, panel.env, gateway.env (then: sudo systemctl restart ${units[*]})"
echo "  check:  sudo sh -c 'set -a; . $CONF_DIR/pipdu.env; . $CONF_DIR/pdu.env; pipdu config check'"
echo "  web page and PDUDaemon API token: PIPDU_GATEWAY_TOKEN in $CONF_DIR/gateway.env"
echo "  Home Assistant's broker user: homeassistant, password HA_MQTT_PASSWORD in $CONF_DIR/mqtt-clients.env"
if [ "$I2C" = gpio ]; then echo "  software I2C is bus 3: set PIPDU_I2C_BUS=3 in $CONF_DIR/pipdu.env."; fi
if [ "${REBOOT:-0}" = 1 ]; then echo "  I2C settings changed in $CONFIG_TXT: reboot now (sudo reboot)."; fi
