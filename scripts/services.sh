# Sourced by e2e.sh: installs (if missing) and starts throw-away PostgreSQL and
# Redis servers on 127.0.0.1, with generated passwords, and stops them on exit.
# Sets POSTGRES_URL_BASE (append a database name) and REDIS_URL_BASE (append /N).

PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_services() {
  local missing=()
  [ -n "$(pg_bindir)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v psql >/dev/null || missing+=(postgresql-client)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} from Debian packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# run_as_db_owner CMD...: PostgreSQL refuses to run as root; use its own account then.
run_as_db_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_services() {
  local state=$1
  install_services
  local bindir; bindir=$(pg_bindir)
  local pgdata=$state/pgdata
  PG_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  REDIS_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$pgdata" "$state/redis"
  printf '%s\n' "$PG_PASSWORD" >"$state/pgpass"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$pgdata" "$state/pgpass"; chmod 755 "$(dirname "$state")" "$state"; fi
  run_as_db_owner "$bindir/initdb" -D "$pgdata" -U rampart --pwfile="$state/pgpass" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log"; return 1; }
  rm -f "$state/pgpass"
  run_as_db_owner "$bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $pgdata -c fsync=off" start >/dev/null \
    || { cat "$pgdata/server.log"; return 1; }
  STOP_POSTGRES="$bindir/pg_ctl -D $pgdata -m fast stop"

  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --requirepass "$REDIS_PASSWORD" \
    --save '' --appendonly no --dir "$state/redis" --daemonize yes \
    --pidfile "$state/redis/redis.pid" --logfile "$state/redis/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG \
    || { cat "$state/redis/redis.log"; return 1; }

  POSTGRES_URL_BASE="postgresql://rampart:$PG_PASSWORD@127.0.0.1:$PG_PORT"
  REDIS_URL_BASE="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT"
  export PGPASSWORD=$PG_PASSWORD
  echo "services: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT," \
    "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$REDIS_PORT"
}

stop_services() {
  [ -n "${STOP_POSTGRES:-}" ] && run_as_db_owner $STOP_POSTGRES >/dev/null 2>&1
  [ -n "${REDIS_PASSWORD:-}" ] && redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning shutdown nosave >/dev/null 2>&1
  return 0
}

# create_database NAME: a fresh, empty database on the test server.
create_database() {
  PGOPTIONS="-c client_min_messages=warning" psql "$POSTGRES_URL_BASE/postgres" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null
}
