#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the tests and exports
# CARDFLOW_TEST_POSTGRES, the DSN of its "postgres" database.
#
#   source .ci/postgres.sh     # as .ci/run does: the cluster stops when that shell exits
#   eval "$(.ci/postgres.sh)"  # by hand: prints the export, leaves the cluster running
#
# The cluster lives in a temporary directory, listens on 127.0.0.1 on a free
# port, trusts local connections and skips fsync. initdb refuses to run as
# root, so under root the server runs as the "postgres" user.

_cardflow_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_cardflow_pg_start() {
  local bindir="" d
  for d in /usr/lib/postgresql/15/bin "$(dirname "$(command -v initdb 2>/dev/null || echo /none/initdb)")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      bindir=$d
      break
    fi
  done
  if [ -z "$bindir" ]; then
    echo "postgres.sh: initdb and pg_ctl not found; install PostgreSQL 15 server binaries" >&2
    return 1
  fi

  # mkdir never follows or reuses an existing path.
  local dir="${TMPDIR:-/tmp}/cardflow-pg.$$.$RANDOM$RANDOM"
  mkdir -m 755 "$dir" || return 1
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres || return 1
    fi
    chown postgres: "$dir" || return 1
    # os.MkdirTemp-style 0700 parents would lock the server out of its own
    # directory; open them for traversal only if needed.
    if ! runuser -u postgres -- test -w "$dir"; then
      local p=$dir
      while p=$(dirname "$p") && [ "$p" != "/" ]; do
        chmod o+x "$p" || return 1
      done
    fi
  fi

  if ! _cardflow_pg_as "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync \
      >"$dir/initdb.log" 2>&1; then
    echo "postgres.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    return 1
  fi

  # A port nobody listens on; if another process takes it first, try again.
  local port attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue
    fi
    if _cardflow_pg_as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null 2>&1; then
      _CARDFLOW_PG_BINDIR=$bindir
      _CARDFLOW_PG_DIR=$dir
      export CARDFLOW_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
      return 0
    fi
  done
  echo "postgres.sh: the server did not start; its log:" >&2
  cat "$dir/server.log" >&2 2>/dev/null
  return 1
}

_cardflow_pg_stop() {
  if [ -n "${_CARDFLOW_PG_DIR:-}" ]; then
    _cardflow_pg_as "$_CARDFLOW_PG_BINDIR/pg_ctl" -D "$_CARDFLOW_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$_CARDFLOW_PG_DIR"
    _CARDFLOW_PG_DIR=""
  fi
}

# _cardflow_pg_trap stops the cluster when the shell exits, then runs the
# EXIT trap the shell already had.
_cardflow_pg_trap() {
  _CARDFLOW_PG_PREV_TRAP=""
  local prev
  prev=$(trap -p EXIT)
  if [ -n "$prev" ]; then
    eval "set -- $prev" # trap -- 'command' EXIT
    _CARDFLOW_PG_PREV_TRAP=$3
  fi
  trap '_cardflow_pg_stop; eval "${_CARDFLOW_PG_PREV_TRAP:-}"' EXIT
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  _cardflow_pg_start || return 1
  _cardflow_pg_trap
  echo "postgres.sh: PostgreSQL is up for this shell: CARDFLOW_TEST_POSTGRES=$CARDFLOW_TEST_POSTGRES" >&2
else
  set -euo pipefail
  _cardflow_pg_start
  echo "export CARDFLOW_TEST_POSTGRES='$CARDFLOW_TEST_POSTGRES'"
  echo "# stop it: $( [ "$(id -u)" -eq 0 ] && echo 'runuser -u postgres -- ' )$_CARDFLOW_PG_BINDIR/pg_ctl -D $_CARDFLOW_PG_DIR/data stop && rm -rf $_CARDFLOW_PG_DIR" >&2
fi
