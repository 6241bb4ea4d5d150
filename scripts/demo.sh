#!/usr/bin/env bash
# `npm start`: builds the bundled wallet-signer example from a pinned commit in the simulated TEE,
# then verifies the provenance offline, as an auditor would.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/apps/cli/src/main.js ] || npm run build
root=$(mktemp -d "${TMPDIR:-/tmp}/secure-build-demo.XXXXXX")
repo="$root/wallet-signer"
mkdir -p "$repo"
cp -R test/fixtures/wallet-signer/. "$repo/"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git -C "$repo" init -q -b main
git -C "$repo" add -A
GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com \
  GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z git -C "$repo" commit -q -m "wallet-signer 1.0"
commit=$(git -C "$repo" rev-parse HEAD)

echo "== building $repo @ $commit"
node bin/secure-build.js build --local --allow-local-repo --repo "$repo" --commit "$commit" --ref refs/heads/main \
  --image-name wallet-signer:1.0 --out "$root/out"

cat > "$root/policy.yaml" <<POLICY
allowSimulated: true   # the demo runs in the TEE simulator; production policies keep this false
repositories: ["file://$repo"]
refs: ["refs/heads/main"]
requireReproducible: true
POLICY
digest=$(node -e 'const i=require(process.argv[1]);process.stdout.write(i.manifests[0].digest)' "$root/out/oci/index.json")
echo
echo "== verifying $root/out/provenance.sigstore.json"
node bin/secure-build.js verify "$root/out/provenance.sigstore.json" --policy "$root/policy.yaml" --image-digest "$digest"
echo "demo output kept in $root"
