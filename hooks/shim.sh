#!/bin/sh
# git-lore hook shim v2. Installed by `git lore hooks install`; `git lore hooks uninstall` removes
# it and puts back any hook it chains (kept next to it as <name>.lore-chained).
# Sessions sync best-effort: whatever happens here, the hook's exit status is the chained hook's.
# One shim for pre-push, post-merge and post-rewrite: it acts on the name it is installed under.
hook=$(basename "$0")
chained="$0.lore-chained"
status=0
input=
case "$hook" in
  pre-push|post-rewrite)
    # Both hooks get lines on stdin: keep them for the chained hook and for git-lore.
    input=$(mktemp "${TMPDIR:-/tmp}/git-lore-hook.XXXXXX") || input=
    if [ -n "$input" ]; then cat > "$input"; fi
    ;;
esac
if [ -f "$chained" ]; then
  if [ -n "$input" ]; then "$chained" "$@" < "$input"; else "$chained" "$@"; fi
  status=$?
fi

@LORE_RULES@

lore_sync() {
  [ "$status" -eq 0 ] || return 0
  [ -z "${LORE_HOOK_ACTIVE:-}" ] || return 0
  lore_disabled && return 0
  local_tip=$(git rev-parse -q --verify "$lore_ref" 2>/dev/null) || return 0
  case "$hook" in
    pre-push)
      # Remotes through git-remote-lore sync themselves; a push of only lore refs is the sync's own.
      case "$2" in lore::*) return 0 ;; esac
      [ "$(git config "remote.$1.vcs" 2>/dev/null)" = lore ] && return 0
      [ -n "$input" ] && ! awk '$3 !~ /^refs\/lore\// { found = 1 } END { exit !found }' "$input" && return 0
      # Nothing new since the last sync: no agent file changed and the lore ref is where the remote's is.
      stamp=$(git rev-parse --git-path lore/hook-stamp)
      if [ -f "$stamp" ] && [ "$local_tip" = "$(git rev-parse -q --verify "$(lore_tracking_ref "$1")" 2>/dev/null)" ]; then
        [ -z "$(lore_new_agent_file "$stamp")" ] && return 0
      fi
      ;;
    post-merge|post-rewrite)
      [ "$hook" = post-rewrite ] && [ "$1" != rebase ] && return 0
      # Fetch the upstream's lore ref (a `git pull <remote> <branch>` does not): nothing to import
      # when it is where ours is.
      branch=$(git symbolic-ref -q --short HEAD 2>/dev/null)
      upstream=$(git config "branch.$branch.remote" 2>/dev/null)
      [ -n "$upstream" ] && [ "$upstream" != . ] || return 0
      GIT_TERMINAL_PROMPT=0 git fetch -q --no-write-fetch-head -- "$upstream" "$(lore_fetch_refspec "$upstream")" </dev/null 2>/dev/null
      [ "$local_tip" = "$(git rev-parse -q --verify "$(lore_tracking_ref "$upstream")" 2>/dev/null)" ] && return 0
      ;;
  esac
  if ! command -v git-lore >/dev/null 2>&1; then
    if [ -f "$chained" ]; then
      echo "git-lore is not on PATH, so this $hook hook only runs your own; restore it with: mv \"$chained\" \"$0\"" >&2
    else
      echo "git-lore is not on PATH, so this $hook hook does nothing; remove it with: rm \"$0\"" >&2
    fi
    return 0
  fi
  LORE_HOOK_ACTIVE=1 git-lore hook "$hook" "$@" < "${input:-/dev/null}"
  return 0
}
lore_sync "$@"
[ -n "$input" ] && rm -f "$input"
exit $status
