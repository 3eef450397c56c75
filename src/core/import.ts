import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { log } from '../log.js';
import type { LoreContext } from './context.js';
import { packBundle, unpackBundle, type NativeFile } from '../store/bundle.js';
import type { EditRecord, SourceFileRow } from '../store/db.js';
import { ClaudeCodeSource } from '../sources/claude-code.js';
import { CodexSource } from '../sources/codex.js';
import type { Reporter } from '../sources/discover.js';
import type { DiscoveredFile, NormalizedSession, Source, ToolName } from '../sources/types.js';
import type { RepoInfo } from '../git/git.js';

/** Default size limit for one native file (256 MiB); LORE_MAX_FILE_BYTES overrides it. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

export interface ImportOptions {
  maxFileBytes?: number;
}

export interface ImportSummary {
  filesSeen: number;
  filesRead: number;
  sessionsNew: number;
  sessionsUpdated: number;
  sessionsUnchanged: number;
  bytesRead: number;
  malformedLines: number;
  unknownLines: number;
  unreadableFiles: string[];
  tooLargeFiles: string[];
  warnings: string[];
}

/** The agent sources, in a fixed order. */
export function sources(ctx: LoreContext, report: Reporter): Source[] {
  return [new ClaudeCodeSource(ctx.paths.claudeDir, report), new CodexSource(ctx.paths.codexHome, report)];
}

/**
 * Capture: finds agent session files, and (re)imports the sessions whose files are new or
 * changed since the last run (size or mtime differ). Unchanged files cost a stat. Bad input never
 * aborts the import: malformed lines are counted, unreadable and oversized files are reported.
 */
export async function importSessions(ctx: LoreContext, opts: ImportOptions = {}): Promise<ImportSummary> {
  const maxFileBytes = opts.maxFileBytes ?? (Number(ctx.env.vars.LORE_MAX_FILE_BYTES) || DEFAULT_MAX_FILE_BYTES);
  const summary: ImportSummary = {
    filesSeen: 0, filesRead: 0, sessionsNew: 0, sessionsUpdated: 0, sessionsUnchanged: 0, bytesRead: 0,
    malformedLines: 0, unknownLines: 0, unreadableFiles: [], tooLargeFiles: [], warnings: [],
  };
  const warn = (m: string) => summary.warnings.push(m);
  const db = ctx.db;
  const known = db.sourceFiles();
  const bySource = new Map<ToolName, Source>();
  const affected = new Map<string, { source: Source; files: DiscoveredFile[] }>();
  const allFiles: Array<{ source: Source; file: DiscoveredFile; sessionId: string | null; changed: boolean }> = [];
  const seenOnly: SourceFileRow[] = [];

  const report: Reporter = {
    unreadable: (p, reason) => {
      summary.unreadableFiles.push(p);
      warn(`cannot read ${p} (${reason}); skipped`);
    },
  };
  for (const source of sources(ctx, report)) {
    bySource.set(source.tool, source);
    for (const file of source.discover()) {
      summary.filesSeen += 1;
      const prev = known.get(file.absPath);
      const changed = !prev || prev.size !== file.size || prev.mtime_ms !== file.mtimeMs;
      let sessionId = file.sessionId ?? prev?.session_id ?? null;
      if (changed && file.size > maxFileBytes) {
        summary.tooLargeFiles.push(file.absPath);
        warn(`skipped ${file.absPath}: ${file.size} bytes is over the ${maxFileBytes}-byte limit (raise LORE_MAX_FILE_BYTES to import it)`);
        seenOnly.push({ path: file.absPath, tool: file.tool, session_id: null, size: file.size, mtime_ms: file.mtimeMs });
        continue;
      }
      if (changed && file.sessionId === null) {
        try {
          sessionId = source.sessionIdOf(file);
        } catch (err) {
          summary.unreadableFiles.push(file.absPath);
          warn(`cannot read ${file.absPath} (${(err as NodeJS.ErrnoException).code ?? err}); skipped`);
          continue;
        }
        if (!sessionId) seenOnly.push({ path: file.absPath, tool: file.tool, session_id: null, size: file.size, mtime_ms: file.mtimeMs });
      }
      allFiles.push({ source, file, sessionId, changed });
      if (changed && sessionId) affected.set(`${source.tool}\0${sessionId}`, { source, files: [] });
    }
  }
  for (const f of allFiles) {
    if (!f.sessionId) continue;
    const a = affected.get(`${f.source.tool}\0${f.sessionId}`);
    if (a && (f.file.size <= maxFileBytes)) a.files.push(f.file);
  }
  if (seenOnly.length) db.putSourceFiles(seenOnly);
  log.import('%d files seen, %d sessions to (re)import', summary.filesSeen, affected.size);

  const repoCache = new Map<string, Promise<RepoInfo | null>>();
  const timing: Timing = { read: 0, parse: 0, pack: 0, write: 0 };
  for (const [key, { source, files }] of affected) {
    const sessionId = key.split('\0')[1]!;
    await importOne(ctx, source, sessionId, files, repoCache, summary, timing);
  }
  log.import('time spent (ms): %o', Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v)])));
  return summary;
}

async function importOne(
  ctx: LoreContext, source: Source, sessionId: string, files: DiscoveredFile[],
  repoCache: Map<string, Promise<RepoInfo | null>>, summary: ImportSummary, timing: Timing,
): Promise<void> {
  const db = ctx.db;
  let t = performance.now();
  const lap = (k: keyof Timing) => {
    const now = performance.now();
    timing[k] += now - t;
    t = now;
  };
  const native: NativeFile[] = [];
  const rows: SourceFileRow[] = [];
  for (const f of files) {
    try {
      const data = fs.readFileSync(f.absPath);
      native.push({ path: f.bundlePath, data, mtimeMs: f.mtimeMs });
      rows.push({ path: f.absPath, tool: f.tool, session_id: sessionId, size: data.length === f.size ? f.size : data.length, mtime_ms: f.mtimeMs });
      summary.filesRead += 1;
      summary.bytesRead += data.length;
    } catch (err) {
      summary.unreadableFiles.push(f.absPath);
      summary.warnings.push(`cannot read ${f.absPath} (${(err as NodeJS.ErrnoException).code ?? err}); skipped, the rest of the session is imported`);
    }
  }
  const existing = db.getSession(sessionId);
  if (existing) {
    // Keep files the agent has since deleted: the store's copy may be the only one left.
    const oldBundle = db.getBundle(sessionId);
    if (oldBundle) {
      const present = new Set(native.map((n) => n.path));
      for (const old of await unpackBundle(oldBundle)) if (!present.has(old.path)) native.push(old);
    }
  }
  if (!native.some((n) => n.path.endsWith('.jsonl'))) return;
  lap('read');
  const session = source.parse(sessionId, native, { text: false });
  lap('parse');
  summary.malformedLines += session.malformedLines;
  summary.unknownLines += session.unknownLines;
  const bundle = await packBundle(native);
  const sha = crypto.createHash('sha256').update(bundle).digest('hex');
  lap('pack');
  if (existing && existing.bundle_sha256 === sha) {
    summary.sessionsUnchanged += 1;
    db.putSourceFiles(rows);
    return;
  }
  const repo = await repoOf(ctx, session.cwd, repoCache);
  const edits = session.edits.map((e) => relativizeEdit(e, session.cwd, repo));
  db.writeSession({
    row: {
      id: sessionId,
      tool: session.tool,
      tool_version: session.toolVersion ?? null,
      cwd: session.cwd ?? null,
      repo_root: repo ? repo.mainRoot : existing?.repo_root ?? null,
      branch: session.gitBranch ?? null,
      started_at: session.startedAt ?? null,
      updated_at: session.updatedAt ?? null,
      message_count: session.messageCount,
      subagent_count: session.subagentCount,
      title: session.title ?? null,
      origin: existing?.origin ?? 'local',
      origin_machine: existing?.origin_machine ?? ctx.machineId,
      bundle_sha256: sha,
      bundle_size: bundle.length,
      malformed_lines: session.malformedLines,
      unknown_lines: session.unknownLines,
      imported_at: ctx.env.now().toISOString(),
    },
    bundle,
    edits,
    files: rows,
  });
  lap('write');
  if (existing) summary.sessionsUpdated += 1;
  else summary.sessionsNew += 1;
}

interface Timing {
  read: number;
  parse: number;
  pack: number;
  write: number;
}

/** The repository that contains a session's cwd (symlinks resolved), or null. */
async function repoOf(ctx: LoreContext, cwd: string | undefined, cache: Map<string, Promise<RepoInfo | null>>): Promise<(RepoInfo & { realCwd: string }) | null> {
  if (!cwd || !path.isAbsolute(cwd)) return null;
  let real: string;
  try {
    real = fs.realpathSync(cwd);
  } catch {
    return null;
  }
  let p = cache.get(real);
  if (!p) {
    p = ctx.git(real).repoInfo();
    cache.set(real, p);
  }
  const info = await p;
  return info ? { ...info, realCwd: real } : null;
}

/**
 * Makes an edit's path relative to the repository root. Tries the root as git reports it and the
 * root as the agent saw it (the recorded cwd may go through a symlink). Paths outside the
 * repository stay absolute.
 */
export function relativizeEdit(e: NormalizedSession['edits'][number], cwd: string | undefined, repo: (RepoInfo & { realCwd: string }) | null): EditRecord {
  const rel = (p: string): string => {
    if (!repo || !cwd) return p;
    const abs = path.isAbsolute(p) ? path.normalize(p) : path.join(cwd, p);
    const cwdInRoot = path.relative(repo.root, repo.realCwd);
    const recordedRoot = cwdInRoot ? (cwd.endsWith(cwdInRoot) ? cwd.slice(0, cwd.length - cwdInRoot.length - 1) : null) : cwd;
    for (const root of [repo.root, recordedRoot]) {
      if (!root) continue;
      const r = path.relative(root, abs);
      if (r && !r.startsWith('..') && !path.isAbsolute(r)) return r.split(path.sep).join('/');
    }
    try {
      const r = path.relative(repo.root, fs.realpathSync(abs));
      if (r && !r.startsWith('..') && !path.isAbsolute(r)) return r.split(path.sep).join('/');
    } catch {
      /* the file may be gone */
    }
    return abs;
  };
  return {
    seq: e.seq, file: rel(e.path), op: e.op, toolName: e.toolName, added: e.added,
    ...(e.movePath ? { movePath: rel(e.movePath) } : {}), ...(e.ts ? { ts: e.ts } : {}),
  };
}
