/** Variables never passed to a child: secrets, and git's per-invocation context that would misdirect it. */
const SCRUBBED = [
  'LORE_PASSPHRASE',
  'LORE_PASSPHRASE_FILE',
  'LORE_NEW_PASSPHRASE',
  'LORE_NEW_PASSPHRASE_FILE',
  'LORE_SSH_PASSPHRASE',
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_PREFIX',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_QUARANTINE_PATH',
  'GIT_TRACE',
  'GIT_TRACE_PACKET',
  'GIT_TRACE_PERFORMANCE',
  'GIT_TRACE_SETUP',
  'GIT_TRACE2',
  'GIT_TRACE2_EVENT',
  'GIT_TRACE2_PERF',
  'GIT_REFLOG_ACTION',
];

/** Builds the environment of a child process: the given variables minus secrets and git context, plus extras. */
export function childEnv(vars: Readonly<Record<string, string | undefined>>, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined || SCRUBBED.includes(k)) continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}
