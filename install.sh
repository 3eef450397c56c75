#!/usr/bin/env bash
# Installs git-lore from this checkout: dependencies (npm ci), build, and the executables
# `git-lore` and `git-remote-lore` linked into ${PREFIX:-$HOME/.local}/bin, with a man page so
# that `git lore --help` works. Idempotent: a second run skips what is already done.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
cd "$here"

die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

command -v git >/dev/null 2>&1 || die "git is missing; install git (e.g. 'apt-get install git') and run ./install.sh again"
command -v node >/dev/null 2>&1 || die "node is missing; install Node.js 20 or newer and run ./install.sh again"
command -v npm >/dev/null 2>&1 || die "npm is missing; install npm (it comes with Node.js) and run ./install.sh again"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old; git-lore needs Node.js 20 or newer"

# 1. Dependencies: npm ci only when the lock file or node version changed since the last run.
# (LORE_INSTALL_LINK_ONLY=1 skips steps 1-2: the test suite uses it to check linking only.)
if [ "${LORE_INSTALL_LINK_ONLY:-}" != 1 ]; then
stamp_want="$(node --version) $(sha256sum package-lock.json | cut -d' ' -f1)"
stamp_file=node_modules/.lore-install-stamp
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$stamp_want" ]; then
  echo "install.sh: installing dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s' "$stamp_want" > "$stamp_file"
else
  echo "install.sh: dependencies up to date"
fi

# 2. Build (incremental: unchanged sources cost little).
echo "install.sh: building..."
npm run --silent build
fi

# 3. Executables and the man page git shows for `git lore --help`.
mkdir -p "$prefix/bin" "$prefix/share/man/man1"
for exe in git-lore git-remote-lore; do
  chmod +x "$here/bin/$exe"
  ln -sfn "$here/bin/$exe" "$prefix/bin/$exe"
done
node "$here/dist/src/cli/man-page.js" > "$prefix/share/man/man1/git-lore.1.tmp"
mv "$prefix/share/man/man1/git-lore.1.tmp" "$prefix/share/man/man1/git-lore.1"
echo "install.sh: linked git-lore and git-remote-lore into $prefix/bin"

# The last lines are what a newcomer reads: where it went, and the exact command to run next
# (by its full path when the folder is not on PATH, so that it works right away).
case ":$PATH:" in
  *":$prefix/bin:"*)
    echo "install.sh: done. Next: git lore demo" ;;
  *)
    printf '\n%s is not on your PATH. Add this line to your shell profile (~/.bashrc, ~/.zshrc) and run it:\n  export PATH="%s:$PATH"\n\n' "$prefix/bin" "$prefix/bin"
    echo "install.sh: done. Next (works before that too): $prefix/bin/git-lore demo" ;;
esac
