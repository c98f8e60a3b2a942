#!/usr/bin/env bash
# The README's first command: build cairn, back up a sample folder into a new local repository,
# list it, restore it elsewhere, compare byte for byte, and verify every chunk. Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent build
bin="$PWD/dist/src/cli/main.js"
cairn() { node "$bin" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-quickstart-XXXXXX")
trap 'rm -rf "$work"' EXIT
export CAIRN_REPO="$work/repo" CAIRN_PASSPHRASE="quickstart-demo-passphrase" XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config"

# A sample folder: this project's own docs and sources, plus a file of random bytes.
mkdir -p "$work/sample"
cp -r docs src "$work/sample/"
head -c 5000000 /dev/urandom > "$work/sample/random.bin"

set -x
cairn rcreate --encryption repokey-aes-ocb
cairn create first "$work/sample"
cairn create second "$work/sample"          # unchanged: nothing is read or stored again
cairn rlist
cairn list first "*/sample/src/store/*"
(mkdir "$work/restore" && cd "$work/restore" && cairn extract first)
diff -r "$work/sample" "$work/restore/${work#/}/sample"
cairn check --verify-data
set +x
echo "quickstart: backup, restore and verification succeeded"
