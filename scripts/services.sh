#!/usr/bin/env bash
# Makes sure the services the tests use are there: a Redis answering at
# MAGEFLOW_REDIS_URL (default redis://127.0.0.1:6379/0), and redis-server on
# the PATH for the tests that start their own servers (a 3-master cluster,
# a server they kill and restart). Starts Redis when none answers, and
# installs it with apt-get when it is missing and we are root.
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
