# shellcheck shell=bash
#
# Shared helpers for scripts/run, scripts/test and .ci/run.  Sourced, not
# executed: the callers own the shell options (they all use set -euo pipefail)
# and we must not change them from here.
#
# Public functions:
#   ensure_venv              .venv with the project installed editable; PATH gets .venv/bin first
#   find_postgres            choose a server; exports PG_ADMIN_URL, PGHOST_RESOLVED, PGPORT_RESOLVED
#   provision_database NAME  roles + database + grants; exports DATABASE_URL (app role),
#                            MIGRATION_DATABASE_URL (owner role), ADMIN_DATABASE_URL,
#                            MONITOR_DATABASE_URL (sales_monitor: pg_monitor, nothing else)
#   drop_database NAME       DROP DATABASE IF EXISTS NAME WITH (FORCE)
#   start_private_standby    a streaming hot standby of the (running) private cluster in
#                            .pgdata/standby, caught up; exports PG_REPLICA_PORT_RESOLVED
#   stop_private_clusters    stop both of them, if running (scripts/run --stop)
#
# Knobs (environment):
#   DATABASE_URL            if set before find_postgres: an *admin* URL to use.  That role must be
#                           able to create roles and databases; a superuser is what we test with.
#                           (A mere CREATEROLE+CREATEDB role also needs membership in sales_owner,
#                           to hand it the database and the public schema.)
#   SALES_PG_PRIVATE=1      ignore DATABASE_URL and :5432; use/start the private cluster in .pgdata
#   SALES_PG_PRIVATE_PORT   port of that private cluster (default 55432)
#   SALES_PG_REPLICA_PORT   port of its standby, if started (default 55433)
#   DB_OWNER_PASSWORD       password of sales_owner (default sales-owner-dev)
#   DB_APP_PASSWORD         password of sales_app   (default sales-app-dev)
#   DB_MONITOR_PASSWORD     password of sales_monitor (default sales-monitor-dev)

# Resolve the repo root from this file's location, so the scripts work from any cwd.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export REPO_ROOT

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# --------------------------------------------------------------------------
# Python virtualenv
# --------------------------------------------------------------------------

ensure_venv() {
    local venv="$REPO_ROOT/.venv" py="" lockfd stamp sum

    # Serialise concurrent first runs (scripts/run beside scripts/test on a fresh
    # clone): two pips installing into one venv can corrupt it.
    mkdir -p "$venv"
    exec {lockfd}>>"$venv/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 600 "$lockfd" || die "timed out waiting for $venv/.lock"
    fi

    # A venv can be left broken (e.g. its base interpreter was removed by pyenv):
    # test that its python actually runs and is new enough, rather than that it exists.
    if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        for candidate in python3.11 python3; do
            if command -v "$candidate" >/dev/null 2>&1 &&
                "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
                py=$candidate
                break
            fi
        done
        [[ -n $py ]] || die "need Python >= 3.11 (python3.11 or python3) on PATH"
        log "creating .venv with $(command -v "$py")"
        # --clear wipes a broken venv's leftovers.  It also unlinks .lock while we hold
        # it; a run starting in that instant could slip past, which is acceptable.
        "$py" -m venv --clear "$venv"
        rm -f "$venv"/.installed-*
    fi

    # Re-install only when the dependency spec changed: pip resolving the whole
    # tree costs seconds even when nothing is to do, on every run of every script.
    sum=$(sha1sum "$REPO_ROOT/setup.cfg" | cut -d' ' -f1)
    stamp="$venv/.installed-$sum"
    if [[ ! -e $stamp ]]; then
        log "installing the project and its dev dependencies into .venv (setup.cfg changed)"
        "$venv/bin/python" -m pip install -q --upgrade pip
        (cd "$REPO_ROOT" && "$venv/bin/python" -m pip install -q -e '.[dev,speed]')
        rm -f "$venv"/.installed-*
        touch "$stamp"
    fi
    exec {lockfd}>&-

    export VIRTUAL_ENV="$venv"
    export PATH="$venv/bin:$PATH"
    unset PYTHONHOME
}

# --------------------------------------------------------------------------
# PostgreSQL: locating binaries and URLs
# --------------------------------------------------------------------------

# Directory with the server binaries (initdb, pg_ctl).  Debian keeps them out of
# PATH in /usr/lib/postgresql/<ver>/bin; pg_config --bindir names it when
# libpq-dev is installed, otherwise take the newest version present.
_pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return
        fi
    fi
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb ]] || die "no PostgreSQL server binaries (pg_config --bindir, /usr/lib/postgresql/*/bin)"
    echo "$dir"
}

# Path of a client tool (psql, pg_isready): PATH first, then the server bindir.
_pg_client() {
    local tool=$1 dir
    if command -v "$tool" >/dev/null 2>&1; then
        command -v "$tool"
        return
    fi
    dir=$(_pg_bindir)
    [[ -x $dir/$tool ]] || die "$tool not found"
    echo "$dir/$tool"
}

# Small URL toolbox in Python: bash has no URL parser and libpq URLs may carry
# passwords, IPv6 hosts, query strings and driver suffixes (postgresql+psycopg2).
#   _pg_url norm URL       -> URL with a plain postgresql:// scheme
#   _pg_url hostport URL   -> "host port"
#   _pg_url withdb URL DB  -> URL pointing at database DB
#   _pg_url withport URL P -> URL pointing at port P (same host, user, password, database)
#   _pg_url redact URL     -> URL with the password masked, for logs
_pg_url() {
    python3 - "$@" <<'PY'
import sys
import urllib.parse as up

op, url = sys.argv[1], sys.argv[2]
p = up.urlsplit(url)
scheme = p.scheme.split("+", 1)[0]
if scheme not in ("postgresql", "postgres"):
    sys.exit(f"not a PostgreSQL URL: {scheme}://...")


def unsplit(netloc, path, query):
    # Not urlunsplit: it drops the "//" when the host is empty (socket URLs).
    return f"postgresql://{netloc}{path}" + (f"?{query}" if query else "")


if op == "norm":
    print(unsplit(p.netloc, p.path, p.query))
elif op == "hostport":
    # No host in the URL means libpq's default socket; the URLs we hand to the
    # app use TCP, so fall back to localhost there.
    print(p.hostname or "localhost", p.port or 5432)
elif op == "withdb":
    print(unsplit(p.netloc, "/" + sys.argv[3], p.query))
elif op == "withport":
    userinfo, at, _ = p.netloc.rpartition("@")
    host = p.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    print(unsplit(f"{userinfo}{at}{host}:{int(sys.argv[3])}", p.path, p.query))
elif op == "redact":
    netloc = p.netloc
    if p.password is not None:
        netloc = netloc.replace(":" + p.password + "@", ":***@", 1)
    print(unsplit(netloc, p.path, p.query))
else:
    sys.exit(f"unknown op {op}")
PY
}

# psql that fails loudly, ignores ~/.psqlrc and does not hang on a dead server.
_psql() {
    local url=$1
    shift
    PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} "$(_pg_client psql)" -X -v ON_ERROR_STOP=1 -q -d "$url" "$@"
}

# --------------------------------------------------------------------------
# PostgreSQL: private cluster in .pgdata
# --------------------------------------------------------------------------

# Run a server binary as the cluster's OS owner.  initdb and postgres refuse to
# run as root, so as root we use the "postgres" account; otherwise ourselves.
_as_pg_owner() {
    if [[ $EUID -ne 0 ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

_start_private_cluster() {
    local base="$REPO_ROOT/.pgdata"
    local data="$base/data" sock="$base/sock" logfile="$base/log"
    local port=${SALES_PG_PRIVATE_PORT:-55432}
    local bindir lockfd locale_opt

    mkdir -p "$base"
    # Serialise concurrent starts: two initdb's on one directory would clash.
    exec {lockfd}>>"$base/lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 180 "$lockfd" || die "timed out waiting for $base/lock (held by another run starting the cluster?)"
    fi

    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user to own the private cluster"
        # The server writes its log and socket under .pgdata, so postgres owns it;
        # 0755 keeps it readable for the (root) tools that walk the repo.
        chown postgres:postgres "$base"
        chmod 0755 "$base"
        _as_pg_owner test -w "$base" ||
            die "the postgres OS user cannot reach $base (a private parent directory such as /root?); clone elsewhere or set DATABASE_URL"
    fi

    # Unix socket paths are limited to ~107 bytes; a deep checkout would break
    # the server start, so move the socket to a short per-checkout temp path then.
    if ((${#sock} + 16 > 100)); then
        sock="${TMPDIR:-/tmp}/sales-pg-$(printf '%s' "$base" | sha1sum | cut -c1-12)"
    fi
    _as_pg_owner mkdir -p "$sock"

    # An existing cluster must be run by the major version that created it.
    if [[ -f $data/PG_VERSION && -x /usr/lib/postgresql/$(cat "$data/PG_VERSION")/bin/pg_ctl ]]; then
        bindir="/usr/lib/postgresql/$(cat "$data/PG_VERSION")/bin"
    else
        bindir=$(_pg_bindir)
    fi

    if [[ ! -f $data/PG_VERSION ]]; then
        # C.UTF-8 sorts deterministically on every machine yet keeps Unicode-aware
        # lower()/upper(); the caller's LANG may name a locale not installed here.
        if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
            locale_opt=--locale=C.UTF-8
        else
            locale_opt=--no-locale
        fi
        log "initialising private PostgreSQL cluster in $data"
        if ! (cd "$base" && _as_pg_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
            "$locale_opt" >"$base/initdb.log" 2>&1); then
            cat "$base/initdb.log" >&2
            die "initdb failed (log above, also in $base/initdb.log)"
        fi
    fi

    _start_private_server cluster "$bindir" "$data" "$logfile" "$port" "$sock" "$lockfd"
    exec {lockfd}>&-
}

# _start_private_server WHAT BINDIR DATA LOGFILE PORT SOCK LOCKFD [SERVER OPTIONS...]
# Start the server in DATA on 127.0.0.1:PORT unless it runs already, and wait until it
# answers; WHAT (cluster, standby) names it in messages.  Reusing a running server
# keeps repeated runs quick and lets parallel runs share it.
_start_private_server() {
    local what=$1 bindir=$2 data=$3 logfile=$4 port=$5 sock=$6 lockfd=$7
    shift 7
    local base="$REPO_ROOT/.pgdata" options="-p $port -k '$sock' -c listen_addresses=127.0.0.1"
    if (($#)); then options+=" $*"; fi

    # pg_ctl status: 0 = running, 3 = not running.
    if (cd "$base" && _as_pg_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1); then
        log "private PostgreSQL $what already running"
    else
        log "starting private PostgreSQL $what on 127.0.0.1:$port (log: $logfile)"
        # Close the lock fd for pg_ctl: the server would inherit it and hold the
        # lock for as long as it runs, blocking every later run.
        if ! (exec {lockfd}>&- && cd "$base" && _as_pg_owner "$bindir/pg_ctl" -D "$data" -l "$logfile" \
            -o "$options" -w -t 60 start >/dev/null); then
            tail -n 30 "$logfile" >&2 || true
            die "could not start the private $what (is port $port taken?)"
        fi
    fi
    "$(_pg_client pg_isready)" -q -h 127.0.0.1 -p "$port" -t 30 ||
        die "private $what in $data does not answer on 127.0.0.1:$port"
}

# --------------------------------------------------------------------------
# PostgreSQL: a streaming standby of the private cluster, in .pgdata/standby
# --------------------------------------------------------------------------

# Clone (once, with pg_basebackup) and start a hot standby of the private cluster,
# which must be running (SALES_PG_PRIVATE=1, then find_postgres); then wait until
# it has replayed everything the primary has written so far.  Like the cluster
# it stays running and is reused by the next run.  No replication slot: a slot
# of a standby nobody starts again would keep WAL on the primary forever; a
# standby left stopped too long cannot catch up then, and says so.
start_private_standby() {
    local base="$REPO_ROOT/.pgdata"
    local standby="$base/standby" logfile="$base/standby.log"
    local port=${SALES_PG_PRIVATE_PORT:-55432} rport=${SALES_PG_REPLICA_PORT:-55433}
    local primary replica bindir sock sysid controldata target state lockfd i

    primary="postgresql://postgres@127.0.0.1:$port/postgres"
    replica="postgresql://postgres@127.0.0.1:$rport/postgres"
    [[ $rport != "$port" ]] || die "SALES_PG_REPLICA_PORT must differ from the private cluster's port $port"
    [[ -f $base/data/PG_VERSION ]] || die "start_private_standby: start the private cluster first (SALES_PG_PRIVATE=1 find_postgres)"

    # Serialise with other runs starting the cluster or the standby.
    exec {lockfd}>>"$base/lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 180 "$lockfd" || die "timed out waiting for $base/lock (held by another run starting the cluster?)"
    fi

    # Ask the primary: the standby runs the same binaries and shares its socket
    # directory (the socket names carry the port).
    bindir=$(_psql "$primary" -At -c "SELECT setting FROM pg_config() WHERE name = 'BINDIR'")
    sock=$(_psql "$primary" -At -c "SHOW unix_socket_directories")
    sysid=$(_psql "$primary" -At -c "SELECT system_identifier FROM pg_control_system()")
    [[ $(_psql "$primary" -At -c "SHOW wal_level") != minimal ]] ||
        die "the private cluster runs with wal_level=minimal: no standby possible (see $base/data/postgresql.conf)"

    # A standby cloned from an earlier cluster (.pgdata/data was re-created) can
    # never follow this one: throw it away.
    if [[ -f $standby/PG_VERSION ]]; then
        controldata=$(cd "$base" && _as_pg_owner "$bindir/pg_controldata" -D "$standby" 2>&1) || true
    fi
    if [[ -f $standby/PG_VERSION ]] &&
        ! grep -Eq "^Database system identifier: +$sysid\$" <<<"$controldata"; then
        warn "$standby was cloned from an earlier private cluster; cloning it again"
        (cd "$base" && _as_pg_owner "$bindir/pg_ctl" -D "$standby" -m immediate -w stop >/dev/null 2>&1) || true
        rm -rf "$standby"
    fi

    if [[ ! -f $standby/PG_VERSION ]]; then
        rm -rf "$standby" # what an interrupted clone left
        log "cloning a standby of the private cluster into $standby (pg_basebackup)"
        # -R writes standby.signal and primary_conninfo (127.0.0.1:$port, user postgres).
        if ! (cd "$base" && _as_pg_owner "$bindir/pg_basebackup" -D "$standby" -h 127.0.0.1 -p "$port" \
            -U postgres -R -X stream -c fast >"$base/basebackup.log" 2>&1); then
            cat "$base/basebackup.log" >&2
            die "pg_basebackup failed (log above, also in $base/basebackup.log)"
        fi
    fi

    _start_private_server standby "$bindir" "$standby" "$logfile" "$rport" "$sock" "$lockfd" -c hot_standby=on
    exec {lockfd}>&-

    [[ $(_psql "$replica" -At -c "SELECT pg_is_in_recovery()") == t ]] ||
        die "the server in $standby is not in recovery (promoted?); remove $standby to clone a new standby"
    target=$(_psql "$primary" -At -c "SELECT pg_current_wal_lsn()")
    for ((i = 0; ; i++)); do
        state=$(_psql "$replica" -At -c "SELECT pg_last_wal_replay_lsn() >= '$target'")
        [[ $state == t ]] && break
        ((i < 600)) || {
            tail -n 30 "$logfile" >&2 || true
            die "the standby has not replayed the primary's WAL up to $target after 60s; if it cannot catch up, remove $standby to clone a new one"
        }
        sleep 0.1
    done
    PG_REPLICA_PORT_RESOLVED=$rport
    export PG_REPLICA_PORT_RESOLVED
    log "private PostgreSQL standby on 127.0.0.1:$rport caught up with the primary ($target)"
}

# Stop what _start_private_cluster and start_private_standby started in this
# checkout (the standby first, so it does not log a lost primary), each with
# pg_ctl's fast mode: connections are closed and nothing is lost.  Running it
# again, or with nothing started, says so and succeeds.
stop_private_clusters() {
    local base="$REPO_ROOT/.pgdata" dir bindir stopped=0
    for dir in "$base/standby" "$base/data"; do
        [[ -f $dir/PG_VERSION ]] || continue
        bindir="/usr/lib/postgresql/$(cat "$dir/PG_VERSION")/bin"
        [[ -x $bindir/pg_ctl ]] || bindir=$(_pg_bindir)
        if (cd "$base" && _as_pg_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1); then
            log "stopping the private PostgreSQL server in $dir"
            (cd "$base" && _as_pg_owner "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null) ||
                die "could not stop the server in $dir"
            stopped=1
        fi
    done
    ((stopped)) || log "no private PostgreSQL server of this checkout is running"
}

# --------------------------------------------------------------------------
# find_postgres
# --------------------------------------------------------------------------

find_postgres() {
    local admin how hp pg_isready_bin=""
    command -v pg_isready >/dev/null 2>&1 && pg_isready_bin=$(command -v pg_isready)

    if [[ ${SALES_PG_PRIVATE:-0} == 1 ]]; then
        _start_private_cluster
        admin="postgresql://postgres@127.0.0.1:${SALES_PG_PRIVATE_PORT:-55432}/postgres"
        how="private cluster in .pgdata (forced by SALES_PG_PRIVATE=1)"
    elif [[ -n ${DATABASE_URL:-} ]]; then
        # Taken as an admin URL: provisioning creates roles and databases with it.
        admin=$DATABASE_URL
        how="DATABASE_URL from the environment"
    elif [[ -n $pg_isready_bin ]] && "$pg_isready_bin" -q -h 127.0.0.1 -p 5432 -t 3; then
        admin="postgresql://postgres@127.0.0.1:5432/postgres"
        how="local server on 127.0.0.1:5432"
    else
        _start_private_cluster
        admin="postgresql://postgres@127.0.0.1:${SALES_PG_PRIVATE_PORT:-55432}/postgres"
        how="private cluster in .pgdata (nothing on 127.0.0.1:5432)"
    fi

    PG_ADMIN_URL=$(_pg_url norm "$admin")
    hp=$(_pg_url hostport "$PG_ADMIN_URL")
    PGHOST_RESOLVED=${hp% *}
    PGPORT_RESOLVED=${hp##* }
    export PG_ADMIN_URL PGHOST_RESOLVED PGPORT_RESOLVED
    log "PostgreSQL: $how -> $(_pg_url redact "$PG_ADMIN_URL")"
}

# --------------------------------------------------------------------------
# provision_database / drop_database
# --------------------------------------------------------------------------

# Database names go into SQL and URLs unquoted in places; keep them boring.
_check_dbname() {
    [[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "invalid database name '$1' (use [a-z0-9_], max 63 chars)"
}

provision_database() {
    local db=${1:?usage: provision_database DBNAME}
    local owner_pw=${DB_OWNER_PASSWORD:-sales-owner-dev}
    local app_pw=${DB_APP_PASSWORD:-sales-app-dev}
    local monitor_pw=${DB_MONITOR_PASSWORD:-sales-monitor-dev}
    local host=$PGHOST_RESOLVED
    _check_dbname "$db"
    [[ -n ${PG_ADMIN_URL:-} ]] || die "provision_database: call find_postgres first"
    [[ $host == *:* ]] && host="[$host]" # IPv6 literal in a URL

    # 1. Cluster-wide roles.  Several databases (sales, many sales_test_*) share
    #    them and may be provisioned in parallel.  The advisory lock serialises our
    #    own runs (concurrent ALTER ROLE on one role fails with "tuple concurrently
    #    updated"); the exception handler covers anyone else creating the role
    #    between our check and our CREATE.  Attributes are only ALTERed when they
    #    differ, so a non-superuser admin is not refused for touching
    #    SUPERUSER/BYPASSRLS needlessly.  Passwords are always (re)set so that the
    #    URLs exported below are valid.  psql does not interpolate variables into a
    #    DO body, hence the detour through session settings.
    #    sales_monitor (issue 21) only reads pg_stat_activity for the admin dashboard: it
    #    inherits pg_monitor and gets CONNECT below, and no right on any table.
    _psql "$PG_ADMIN_URL" -v owner_pw="$owner_pw" -v app_pw="$app_pw" -v monitor_pw="$monitor_pw" <<'SQL'
SET sales.owner_pw = :'owner_pw';
SET sales.app_pw = :'app_pw';
SET sales.monitor_pw = :'monitor_pw';
DO $$
DECLARE
    r record;
    created boolean;
    fix text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sales-api: provision roles'));
    FOR r IN
        SELECT * FROM (VALUES
            ('sales_owner', false, current_setting('sales.owner_pw')),
            ('sales_app',   true,  current_setting('sales.app_pw')),
            ('sales_monitor', false, current_setting('sales.monitor_pw'))
        ) AS v(name, noinherit, pw)
    LOOP
        created := false;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
            BEGIN
                EXECUTE format(
                    'CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE %s PASSWORD %L',
                    r.name, CASE WHEN r.noinherit THEN 'NOINHERIT' ELSE '' END, r.pw);
                created := true;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- lost a creation race: fall through and enforce below
            END;
        END IF;
        IF NOT created THEN
            SELECT concat_ws(' ',
                       CASE WHEN NOT rolcanlogin THEN 'LOGIN' END,
                       CASE WHEN rolsuper THEN 'NOSUPERUSER' END,
                       CASE WHEN rolbypassrls THEN 'NOBYPASSRLS' END,
                       CASE WHEN rolcreatedb THEN 'NOCREATEDB' END,
                       CASE WHEN rolcreaterole THEN 'NOCREATEROLE' END,
                       CASE WHEN r.noinherit AND rolinherit THEN 'NOINHERIT' END)
              INTO fix
              FROM pg_roles WHERE rolname = r.name;
            EXECUTE format('ALTER ROLE %I WITH %s PASSWORD %L', r.name, fix, r.pw);
        END IF;
    END LOOP;
    IF NOT pg_has_role('sales_monitor', 'pg_monitor', 'MEMBER') THEN
        GRANT pg_monitor TO sales_monitor;
    END IF;
END
$$;
RESET sales.owner_pw;
RESET sales.app_pw;
RESET sales.monitor_pw;
SQL

    # 2. The database.  CREATE DATABASE cannot run inside a DO block, so \gexec
    #    runs it only when missing.  A parallel run may create it between our check
    #    and our CREATE (duplicate_database): tolerate that if it now exists.
    #    (psql -c does not interpolate :'vars', hence the here-documents.)
    if ! _psql "$PG_ADMIN_URL" -v db="$db" <<'SQL'; then
SELECT format('CREATE DATABASE %I OWNER sales_owner', :'db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
SQL
        [[ $(_psql "$PG_ADMIN_URL" -At -v db="$db" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'") == 1 ]] ||
            die "could not create database $db"
        warn "database $db was created concurrently by another run; continuing"
    fi

    ADMIN_DATABASE_URL=$(_pg_url withdb "$PG_ADMIN_URL" "$db")

    # 3. Privileges inside the database.  Migrations run as sales_owner, so the
    #    tables they create are owned by it, and the default privileges hand
    #    sales_app DML only (no DDL, no TRUNCATE, not the owner, so RLS applies).
    #    Deliberately no "GRANT ... ON ALL TABLES": a migration may have revoked
    #    rights on purpose (e.g. append-only tables) and re-provisioning must not
    #    undo that.
    _psql "$ADMIN_DATABASE_URL" -v db="$db" <<'SQL'
ALTER SCHEMA public OWNER TO sales_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO sales_app;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO sales_app, sales_owner, sales_monitor;
ALTER DEFAULT PRIVILEGES FOR ROLE sales_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sales_app;
ALTER DEFAULT PRIVILEGES FOR ROLE sales_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO sales_app;
SQL

    # The app gets the unprivileged role; this deliberately replaces an admin
    # DATABASE_URL that find_postgres may have consumed.
    export DATABASE_URL="postgresql://sales_app:${app_pw}@${host}:${PGPORT_RESOLVED}/${db}"
    export MIGRATION_DATABASE_URL="postgresql://sales_owner:${owner_pw}@${host}:${PGPORT_RESOLVED}/${db}"
    export MONITOR_DATABASE_URL="postgresql://sales_monitor:${monitor_pw}@${host}:${PGPORT_RESOLVED}/${db}"
    export ADMIN_DATABASE_URL
    log "database '$db' provisioned (app role sales_app, owner sales_owner, monitor sales_monitor)"
}

drop_database() {
    local db=${1:?usage: drop_database DBNAME}
    _check_dbname "$db"
    [[ -n ${PG_ADMIN_URL:-} ]] || die "drop_database: call find_postgres first"
    # WITH (FORCE) (PostgreSQL 13+) terminates leftover connections, e.g. from a
    # test that leaked a pool; otherwise the drop would fail and the db linger.
    _psql "$PG_ADMIN_URL" -v db="$db" <<'SQL'
SET client_min_messages = warning; -- no NOTICE when it is already gone
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
}
