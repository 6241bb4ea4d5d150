#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine, idempotent:
#  - system packages: git, bubblewrap, prlimit (util-linux), ssh-keygen and gpg (signed commits),
#    Redis (the queue), PostgreSQL (used by
#    the tests and by production deployments; the service itself defaults to embedded PGlite);
#  - starts Redis and PostgreSQL when they are not answering;
#  - npm dependencies and the compiled TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "setup: need root for: $*" >&2
    exit 1
  fi
}

need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v prlimit >/dev/null 2>&1 || need+=(util-linux)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client) # verifies SSH-signed commits
command -v gpg >/dev/null 2>&1 || need+=(gnupg)                 # verifies OpenPGP-signed commits
# The registry tests run a private docker-registry per test run; skopeo and umoci check our images.
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v umoci >/dev/null 2>&1 || need+=(umoci)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # policy-rc.d-free install: we start the services ourselves below (no systemd in containers/CI).
  # docker-registry's postinst would start a system registry on :5000 on every interface: keep
  # package scripts from starting services (policy-rc.d 101), and stop one that got started anyway.
  policy_rc_d_added=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    policy_rc_d_added=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  [ -n "$policy_rc_d_added" ] && as_root rm -f /usr/sbin/policy-rc.d
  if [ -x /etc/init.d/docker-registry ]; then as_root /etc/init.d/docker-registry stop >/dev/null 2>&1 || true; fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: starting Redis on 127.0.0.1:6379"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/secure-build.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

pg_ready() { PGCONNECT_TIMEOUT=3 psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_ready; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$version" ]; then
    echo "setup: starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -q && break; sleep 0.2; done
    if ! pg_ready; then
      # A fresh Debian cluster asks for passwords over TCP; the tests connect as postgres on loopback.
      hba="/etc/postgresql/$version/main/pg_hba.conf"
      echo "setup: allowing trust auth for user postgres from 127.0.0.1 in $hba (test machine)"
      as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    fi
  fi
  pg_ready || echo "setup: warning: PostgreSQL on 127.0.0.1:5432 is not reachable as user postgres; the store tests need it" >&2
fi

if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= 20.19 is required (Debian: apt-get install nodejs npm, or NodeSource)" >&2
  exit 1
fi

# npm ci also compiles the TypeScript (the `prepare` script) so `npx secure-build` works.
npm ci --no-audit --no-fund
