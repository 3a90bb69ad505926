#!/usr/bin/env bash
# Prints the bin folder of the Node.js the project runs on (the version in .nvmrc, an LTS), to be put
# first on PATH. The machine's own node is used when it has that major version and satisfies
# package.json's engines; otherwise the official build is installed from the npm registry (packages
# node-<os>-<arch>, which ship the nodejs.org binary) into ~/.cache/tributary/node-<version>, once.
# Messages go to stderr.
#   export PATH="$(bash .ci/node.sh):$PATH"    # what .ci/run does; developers can do the same
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(tr -d ' v\r\n' <.nvmrc)
major=${want%%.*}

current=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
# the machine's node when it is that LTS line and satisfies package.json's engines (bin/require-node.mjs)
if [ "${current%%.*}" = "$major" ] && node bin/require-node.mjs 2>/dev/null; then
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) os="" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="" ;;
esac
fail() {
  echo "error: $1" >&2
  echo "  fix: install Node.js $major yourself (https://nodejs.org/en/download, \`brew install node@$major\`," >&2
  echo "       or \`nvm install $major\`), put it first on PATH, and run again" >&2
  exit 1
}
[ -n "$os" ] && [ -n "$arch" ] || fail "no Node.js $want package for $(uname -s) $(uname -m) (supported: Linux and macOS on x64 or arm64)"

package="node-$os-$arch"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tributary"
dir="$cache/node-$want"
bin="$dir/node_modules/$package/bin"
if [ "$("$bin/node" --version 2>/dev/null || true)" != "v$want" ]; then
  echo "the machine's node is ${current/#0/missing} (this project needs $major): installing $package@$want into $dir" >&2
  command -v npm >/dev/null || fail "npm is needed to install Node.js $want and is not on PATH"
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/node-$want.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # a version missing for this platform (the registry's macOS packages lag behind) ends here
  npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "$package@$want" >&2 || fail "could not install $package@$want from the npm registry"
  [ "$("$tmp/node_modules/$package/bin/node" --version)" = "v$want" ] ||
    fail "$package@$want did not install a working node $want"
  rm -rf "$dir"
  mv "$tmp" "$dir"
fi
echo "$bin"
