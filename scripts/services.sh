# Sourced by matrix.sh and e2e.sh: installs (if missing) and starts throw-away PostgreSQL,
# MariaDB, Redis and memcached servers on 127.0.0.1, with generated passwords
# where the server has authentication, and stops them on exit.
# Sets POSTGRES_URL_BASE and MYSQL_URL_BASE (append /DATABASE), REDIS_URL_BASE
# (append /N) and MEMCACHED_SERVERS (host:port).

# Below Linux's ephemeral range (32768-60999), so that a client connecting
# while a server is down (e2e stops them on purpose) cannot connect to itself.
PG_PORT=${PG_PORT:-25432}
MYSQL_PORT=${MYSQL_PORT:-23306}
REDIS_PORT=${REDIS_PORT:-26379}
MEMCACHED_PORT=${MEMCACHED_PORT:-21211}

# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_services() {
  # PostgreSQL's server binaries live under a versioned directory, not on PATH.
  install_commands "$(pg_bindir)/initdb:postgresql" redis-server psql:postgresql-client mariadbd:mariadb-server mariadb:mariadb-client memcached
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
  PG_PASSWORD=$(random_hex 18)
  REDIS_PASSWORD=$(random_hex 18)
  mkdir -p "$pgdata" "$state/redis"
  printf '%s\n' "$PG_PASSWORD" >"$state/pgpass"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$pgdata" "$state/pgpass"; chmod 755 "$(dirname "$state")" "$state"; fi
  run_as_db_owner "$bindir/initdb" -D "$pgdata" -U rampart --pwfile="$state/pgpass" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log"; return 1; }
  rm -f "$state/pgpass"
  PGDATA_DIR=$pgdata
  STOP_POSTGRES="$bindir/pg_ctl -D $pgdata -m fast stop"
  server_up postgres || return 1
  REDIS_DIR=$state/redis
  server_up redis || return 1

  start_mariadb "$state/mariadb"

  # memcached has no authentication in the text protocol: loopback only.
  MEMCACHED_LOG=$state/memcached.log
  server_up memcached

  POSTGRES_URL_BASE="postgresql://rampart:$PG_PASSWORD@127.0.0.1:$PG_PORT"
  MYSQL_URL_BASE="mysql://rampart:$MYSQL_PASSWORD@127.0.0.1:$MYSQL_PORT"
  REDIS_URL_BASE="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT"
  MEMCACHED_SERVERS="127.0.0.1:$MEMCACHED_PORT"
  export PGPASSWORD=$PG_PASSWORD
  echo "services: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT," \
    "MariaDB $(mariadbd --version | sed -E 's/.*Ver ([^ -]*).*/\1/') on 127.0.0.1:$MYSQL_PORT," \
    "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$REDIS_PORT," \
    "memcached $(memcached -V | awk '{print $2}') on $MEMCACHED_SERVERS"
}

# start_mariadb DIR: a private MariaDB data directory and server, with an
# account "rampart" that may create databases, reachable over TCP only.
start_mariadb() {
  local dir=$1
  MYSQL_PASSWORD=$(random_hex 18)
  mkdir -p "$dir/data" "$dir/tmp"
  local user; user=$(id -un)
  if [ "$(id -u)" = 0 ]; then user=mysql; chown -R mysql "$dir"; fi
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" --auth-root-authentication-method=socket \
    --tmpdir="$dir/tmp" --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log"; return 1; }
  MARIADB_DIR=$dir MARIADB_USER=$user
  mariadb_up
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e \
    "CREATE USER 'rampart'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD'; GRANT ALL ON *.* TO 'rampart'@'127.0.0.1';" \
    || { cat "$dir/error.log"; return 1; }
  STOP_MARIADB="$dir/mysqld.sock"
}

# server_up NAME / server_down NAME: start or stop one of the servers after
# start_services set it up (e2e.sh stops them to watch /readyz turn 503).
server_up() {
  case $1 in
    postgres)
      run_as_db_owner "$(pg_bindir)/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGDATA_DIR -c fsync=off" start >/dev/null \
        || { cat "$PGDATA_DIR/server.log"; return 1; } ;;
    redis)
      redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --requirepass "$REDIS_PASSWORD" \
        --save '' --appendonly no --dir "$REDIS_DIR" --daemonize yes \
        --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
      for _ in $(seq 50); do
        redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
      done
      redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG \
        || { cat "$REDIS_DIR/redis.log"; return 1; } ;;
    mariadb) mariadb_up ;;
    memcached)
      memcached --listen=127.0.0.1 --port="$MEMCACHED_PORT" --udp-port=0 --memory-limit=64 \
        --user="$(id -un)" >>"$MEMCACHED_LOG" 2>&1 &
      STOP_MEMCACHED=$!
      for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$MEMCACHED_PORT") 2>/dev/null && break
        sleep 0.1
      done ;;
    *) echo "server_up: unknown server $1" >&2; return 1 ;;
  esac
}

server_down() {
  case $1 in
    postgres) run_as_db_owner $STOP_POSTGRES >/dev/null 2>&1 ;;
    redis) redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning shutdown nosave >/dev/null 2>&1 ;;
    mariadb) mariadb-admin --no-defaults --socket="$STOP_MARIADB" -uroot shutdown >/dev/null 2>&1 ;;
    memcached) kill "$STOP_MEMCACHED" 2>/dev/null; wait "$STOP_MEMCACHED" 2>/dev/null ;;
    *) echo "server_down: unknown server $1" >&2; return 1 ;;
  esac
  return 0
}

mariadb_up() {
  local dir=$MARIADB_DIR
  mariadbd --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --user="$MARIADB_USER" --bind-address=127.0.0.1 \
    --port="$MYSQL_PORT" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
    --log-error="$dir/error.log" --innodb-flush-log-at-trx-commit=0 --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci >/dev/null 2>&1 &
  for _ in $(seq 100); do
    [ -S "$dir/mysqld.sock" ] && mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$dir/error.log"; return 1
}

stop_services() {
  [ -n "${STOP_POSTGRES:-}" ] && run_as_db_owner $STOP_POSTGRES >/dev/null 2>&1
  [ -n "${STOP_MARIADB:-}" ] && mariadb-admin --no-defaults --socket="$STOP_MARIADB" -uroot shutdown >/dev/null 2>&1
  [ -n "${STOP_MEMCACHED:-}" ] && kill "$STOP_MEMCACHED" 2>/dev/null
  [ -n "${REDIS_PASSWORD:-}" ] && redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning shutdown nosave >/dev/null 2>&1
  return 0
}

# server_url SERVER NAME [REDIS-DB]: what points an app at SERVER (a choice's
# server attribute in the manifest), with a fresh database NAME on servers
# that hold databases (Redis: database REDIS-DB, default 0, emptied). A server these scripts cannot start is an error, so a
# new choice is never "proved" against no server at all.
server_url() {
  case $1 in
    postgres) create_database "$2" && echo "$POSTGRES_URL_BASE/$2" ;;
    mariadb) create_mysql_database "$2" && echo "$MYSQL_URL_BASE/$2" ;;
    redis) redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning -n "${3:-0}" flushdb >/dev/null \
      && echo "$REDIS_URL_BASE/${3:-0}" ;;
    memcached) echo "$MEMCACHED_SERVERS" ;;
    *) echo "scripts/services.sh cannot start server '$1' (a choice's server attribute):" \
      "teach install_services, start_services, server_up, server_down and server_url about it" >&2
      return 1 ;;
  esac
}

# project_servers DIR NAME [REDIS-DB]: each server the generated project in
# DIR uses and the setting that points the app at it, from the manifest
# (tools/matrix services, the choices' server and setting attributes), as
# "SERVER SETTING=URL" lines, with fresh databases named NAME (server_url).
project_servers() {
  local wanted setting server url
  wanted=$("$MATRIX" services "$1/.rampart.yaml") || return 1
  while IFS=$'\t' read -r setting server; do
    [ -n "$server" ] || continue
    url=$(server_url "$server" "$2" "${3:-}") || return 1
    echo "$server $setting=$url"
  done <<<"$wanted"
}

# create_database NAME: a fresh, empty PostgreSQL database.
create_database() {
  PGOPTIONS="-c client_min_messages=warning" psql "$POSTGRES_URL_BASE/postgres" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null
}

# create_mysql_database NAME: a fresh, empty MariaDB database (utf8mb4).
create_mysql_database() {
  mariadb --no-defaults --socket="$STOP_MARIADB" -uroot -e \
    "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
}
