#!/usr/bin/env bash
# Makes sure the services the tests use are there: a Redis answering at
# MAGEFLOW_REDIS_URL (default redis://127.0.0.1:6379/0), redis-server on the
# PATH for the tests that start their own servers (a 3-master cluster, a
# server they kill and restart), and a PostgreSQL answering at
# MAGEFLOW_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
# for the local Hatchet engine. Starts what does not answer, and installs
# it with apt-get when it is missing and we are root.
set -euo pipefail

url="${MAGEFLOW_REDIS_URL:-redis://127.0.0.1:6379/0}"
hostport="${url#*://}"
hostport="${hostport##*@}"
hostport="${hostport%%/*}"
host="${hostport%%:*}"
port="${hostport##*:}"
[ "$port" = "$hostport" ] && port=6379

say() { printf 'services: %s\n' "$*"; }

# ping answers true when a Redis at host:port replies PONG.
ping() {
	(
		exec 3<>"/dev/tcp/$host/$port" || exit 1
		printf 'PING\r\n' >&3
		read -r -t 2 reply <&3 || exit 1
		[[ "$reply" == +PONG* ]]
	) 2>/dev/null
}

install_redis() {
	if command -v redis-server >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		say "redis-server is missing and we are not root: install redis-server (Debian: apt-get install redis-server)"
		return 1
	fi
	say "installing redis-server with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq redis-server >/dev/null
}

install_redis || true

if ping; then
	say "Redis answers at $host:$port"
else
	case "$host" in
	127.0.0.1 | localhost | ::1) ;;
	*)
		say "no Redis answers at $host:$port, and it is not local: not starting one"
		exit 0
		;;
	esac
	if ! command -v redis-server >/dev/null 2>&1; then
		say "no Redis at $host:$port and no redis-server to start"
		exit 0
	fi
	say "starting redis-server on $host:$port"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
		--dir /tmp --logfile "/tmp/mageflow-redis-$port.log"
	for _ in $(seq 1 50); do
		ping && break
		sleep 0.1
	done
	if ping; then
		say "Redis started at $host:$port"
	else
		say "redis-server did not answer at $host:$port; see /tmp/mageflow-redis-$port.log"
	fi
fi

# --- PostgreSQL, for the local Hatchet engine ---
pgurl="${MAGEFLOW_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
pghostport="${pgurl#*://}"
pghostport="${pghostport##*@}"
pghostport="${pghostport%%/*}"
pghost="${pghostport%%:*}"
pgport="${pghostport##*:}"
[ "$pgport" = "$pghostport" ] && pgport=5432

pg_up() { (exec 3<>"/dev/tcp/$pghost/$pgport") 2>/dev/null; }

if pg_up; then
	say "PostgreSQL answers at $pghost:$pgport"
else
	case "$pghost" in
	127.0.0.1 | localhost | ::1) ;;
	*)
		say "no PostgreSQL answers at $pghost:$pgport, and it is not local: not starting one"
		exit 0
		;;
	esac
	if ! command -v pg_ctlcluster >/dev/null 2>&1; then
		if [ "$(id -u)" != 0 ]; then
			say "PostgreSQL is missing and we are not root: install postgresql (Debian: apt-get install postgresql)"
			exit 0
		fi
		say "installing postgresql with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		apt-get install -y -qq postgresql >/dev/null
	fi
	version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
	if [ -z "$version" ]; then
		say "no PostgreSQL cluster found under /etc/postgresql"
		exit 0
	fi
	conf="/etc/postgresql/$version/main/pg_hba.conf"
	# the tests connect as postgres without a password, on loopback only
	if [ -w "$conf" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$conf"; then
		sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$conf"
	fi
	say "starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
	for _ in $(seq 1 100); do
		pg_up && break
		sleep 0.1
	done
	if pg_up; then
		say "PostgreSQL started at $pghost:$pgport"
	else
		say "PostgreSQL did not answer at $pghost:$pgport"
	fi
fi
