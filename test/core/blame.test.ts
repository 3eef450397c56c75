import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CODEX_FIXTURE, FIXTURES, Machine, SKIP_NO_FIXTURES, placeFixtures, claudeProjectDir } from '../helpers/machine.js';
import { ok, userLine } from '../helpers/repos.js';

/** A line of a simulated file and who wrote it. */
interface Prov {
  text: string;
  by: 'session' | 'person';
}
type Files = Map<string, Prov[]>;

/** Applies one apply_patch patch to the simulated files; returns false when it does not apply (as Codex reported). */
function applyCodexPatch(files: Files, patch: string): boolean {
  const next = new Map(files);
  const lines = patch.split('\n');
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    let m: RegExpExecArray | null;
    if ((m = /^\*\*\* Add File: (.+)$/.exec(l))) {
      const body: Prov[] = [];
      i++;
      while (i < lines.length && lines[i]!.startsWith('+')) body.push({ text: lines[i++]!.slice(1), by: 'session' });
      next.set(m[1]!.trim(), body);
      continue;
    }
    if ((m = /^\*\*\* Delete File: (.+)$/.exec(l))) {
      next.delete(m[1]!.trim());
      i++;
      continue;
    }
    if ((m = /^\*\*\* Update File: (.+)$/.exec(l))) {
      const file = m[1]!.trim();
      let target = file;
      let cur = [...(next.get(file) ?? [])];
      i++;
      if (lines[i]?.startsWith('*** Move to: ')) target = lines[i++]!.slice(13).trim();
      let pos = 0;
      while (i < lines.length && !/^\*\*\* (Add|Update|Delete) File|^\*\*\* End Patch/.test(lines[i]!)) {
        if (lines[i]!.startsWith('@@') || lines[i] === '*** End of File') {
          i++;
          continue;
        }
        const oldPart: string[] = [];
        const newPart: Array<{ text: string; keep: boolean }> = [];
        // A blank context line may come without its leading space.
        const blankContext = (k: number) => {
          while (k < lines.length && lines[k] === '') k++;
          return k < lines.length && /^[ +-]/.test(lines[k]!);
        };
        while (i < lines.length && (/^[ +-]/.test(lines[i]!) || (lines[i] === '' && blankContext(i))) && !lines[i]!.startsWith('*** ')) {
          const t = lines[i] === '' ? ' ' : lines[i]!;
          if (t[0] !== '+') oldPart.push(t.slice(1));
          if (t[0] !== '-') newPart.push({ text: t.slice(1), keep: t[0] === ' ' });
          i++;
        }
        if (!oldPart.length && !newPart.length) {
          i++;
          continue;
        }
        let at = -1;
        for (const eq of [(a: string, b: string) => a === b, (a: string, b: string) => a.trimEnd() === b.trimEnd(), (a: string, b: string) => a.trim() === b.trim()]) {
          for (const from of [pos, 0]) for (let k = from; k + oldPart.length <= cur.length && at < 0; k++) if (oldPart.every((o, j) => eq(cur[k + j]!.text, o))) at = k;
          if (at >= 0) break;
        }
        if (at < 0 && oldPart.length === 0) at = cur.length;
        if (at < 0) {
          if (process.env.LORE_DEBUG_PATCH) process.stderr.write(`hunk not found in ${file}:\n${oldPart.join('\n')}\n--- file:\n${cur.map((p) => p.text).join('\n')}\n`);
          return false;
        }
        const old = cur.slice(at, at + oldPart.length);
        let oi = 0;
        const repl: Prov[] = newPart.map((p) => {
          if (p.keep) {
            while (oi < old.length && old[oi]!.text.trim() !== p.text.trim()) oi++;
            return old[oi++] ?? { text: p.text, by: 'session' };
          }
          return { text: p.text, by: 'session' };
        });
        cur = [...cur.slice(0, at), ...repl, ...cur.slice(at + oldPart.length)];
        pos = at + repl.length;
      }
      next.delete(file);
      next.set(target, cur);
      continue;
    }
    i++;
  }
  for (const k of [...files.keys()]) files.delete(k);
  for (const [k, v] of next) files.set(k, v);
  return true;
}

function writeFiles(repo: string, files: Files, touched: Set<string>): void {
  for (const f of touched) {
    const abs = path.join(repo, f);
    const content = files.get(f);
    if (!content) {
      fs.rmSync(abs, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content.map((p) => `${p.text}\n`).join(''));
  }
}

function commitAt(m: Machine, repo: string, when: Date, message: string, author = 'dev'): void {
  const env = { ...m.vars, GIT_AUTHOR_DATE: when.toISOString(), GIT_COMMITTER_DATE: when.toISOString(), GIT_AUTHOR_NAME: author, GIT_COMMITTER_NAME: author };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], { cwd: repo, env });
}

test('blame on a repository built from real sessions with people in between: precision and recall >= 0.95', { skip: SKIP_NO_FIXTURES }, async () => {
  const m = new Machine('blame');
  const repo = m.initRepo(path.join(m.home, 'rtchess'));
  placeFixtures(m, repo);
  const files: Files = new Map();
  const put = (f: string, provs: Prov[]) => {
    files.set(f, provs);
    writeFiles(repo, files, new Set([f]));
  };

  // Claude Code: a person's CLAUDE.md, then the session's MultiEdit (structuredPatch) over it.
  const claudeLines = fs.readFileSync(path.join(FIXTURES, 'claude-code', '5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const multi = claudeLines.find((o) => o.toolUseResult?.structuredPatch && o.toolUseResult?.originalFileContents);
  const original = (multi.toolUseResult.originalFileContents as string).replace(/\n$/, '').split('\n');
  put('CLAUDE.md', original.map((text) => ({ text, by: 'person' as const })));
  commitAt(m, repo, new Date(Date.parse(multi.timestamp) - 3600_000), 'docs: CLAUDE.md', 'alice');
  const hunk = multi.toolUseResult.structuredPatch[0] as { oldStart: number; oldLines: number; lines: string[] };
  const before = files.get('CLAUDE.md')!;
  const region: Prov[] = [];
  let oi = hunk.oldStart - 1;
  for (const l of hunk.lines) {
    if (l.startsWith('+')) region.push({ text: l.slice(1), by: 'session' });
    else if (l.startsWith('-')) oi++;
    else region.push(before[oi++]!);
  }
  put('CLAUDE.md', [...before.slice(0, hunk.oldStart - 1), ...region, ...before.slice(hunk.oldStart - 1 + hunk.oldLines)]);
  commitAt(m, repo, new Date(Date.parse(multi.timestamp) + 60_000), 'docs: update CLAUDE.md (claude)');

  // Codex: every apply_patch the session made, committed in groups, with people's changes in between.
  const rollout = fs.readFileSync(path.join(FIXTURES, 'codex', CODEX_FIXTURE), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const outputs = new Map<string, string>();
  for (const o of rollout) if (o.payload?.type === 'custom_tool_call_output') outputs.set(o.payload.call_id, o.payload.output);
  const calls = rollout.filter((o) => o.payload?.type === 'custom_tool_call' && o.payload.name === 'apply_patch' && (outputs.get(o.payload.call_id) ?? '').includes('"exit_code":0'));
  // A dry run tells which lines of app.js the session never touches again: people edit only those,
  // as a person would edit code the agent had finished with (else the agent's later patches, made
  // without seeing the person's change, would not apply).
  const dry: Files = new Map();
  for (const call of calls) applyCodexPatch(dry, call.payload.input);
  const settled = new Set((dry.get('app.js') ?? []).map((p) => p.text));
  let applied = 0;
  let personEdits = 0;
  let lastTs = 0;
  const pending = new Set<string>();
  for (const call of calls) {
    const beforeKeys = new Set(files.keys());
    assert.ok(applyCodexPatch(files, call.payload.input), `a patch Codex applied must apply here too (${call.payload.call_id})`);
    for (const k of new Set([...beforeKeys, ...files.keys()])) pending.add(k);
    applied += 1;
    lastTs = Date.parse(call.timestamp);
    if (applied % 5 === 0) {
      writeFiles(repo, files, pending);
      pending.clear();
      commitAt(m, repo, new Date(lastTs + 60_000), `codex work ${applied}`);
      // A person changes a line the session wrote, and adds one of their own.
      if ((applied / 5) % 2 === 0 && files.has('app.js')) {
        const app = files.get('app.js')!;
        const count = (t: string) => app.filter((p) => p.text === t).length;
        const idx = app.findIndex((p, k) => p.by === 'session' && p.text.trim().length > 20 && settled.has(p.text) && count(p.text) === 1 && k > (applied * 7) % Math.max(1, app.length - 1));
        if (idx >= 0) {
          app[idx] = { text: `${app[idx]!.text} // adjusted by hand (${applied})`, by: 'person' };
          app.splice(idx + 1, 0, { text: `// a person's note number ${applied}`, by: 'person' });
          personEdits += 2;
          writeFiles(repo, files, new Set(['app.js']));
          commitAt(m, repo, new Date(lastTs + 90_000), `hand edits ${applied}`, 'bob');
        }
      }
    }
  }
  writeFiles(repo, files, pending);
  commitAt(m, repo, new Date(lastTs + 60_000), 'codex work, last');
  // A rename by a person.
  execFileSync('git', ['mv', 'README.md', 'docs-README.md'], { cwd: repo, env: m.vars });
  files.set('docs-README.md', files.get('README.md')!);
  files.delete('README.md');
  commitAt(m, repo, new Date(lastTs + 120_000), 'rename README', 'bob');
  assert.ok(applied > 60, `applied ${applied} patches`);
  assert.ok(personEdits >= 6);

  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const [file, provs] of files) {
    const r = await ok(m.lore(['blame', '--json', file], { cwd: repo }));
    const blamed = JSON.parse(r.stdout).lines as Array<{ line: number; text: string; session: { id: string } | null }>;
    assert.equal(blamed.length, provs.length, file);
    blamed.forEach((b, k) => {
      const truth = provs[k]!;
      assert.equal(b.text, truth.text);
      if (!truth.text.trim()) return;
      const bySession = b.session !== null;
      if (bySession && truth.by === 'session') tp++;
      else if (bySession) fp++;
      else if (truth.by === 'session') fn++;
      else tn++;
    });
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  process.stderr.write(`blame scenario: ${applied} patches, ${files.size} files; tp ${tp} fp ${fp} fn ${fn} tn ${tn}; precision ${precision.toFixed(3)} recall ${recall.toFixed(3)}\n`);
  assert.ok(tn >= personEdits, 'people\'s lines are counted');
  assert.ok(precision >= 0.95, `precision ${precision}`);
  assert.ok(recall >= 0.95, `recall ${recall}`);

  // The reasoning for a line: the prompt that led to it, and the command to open the session there.
  const app = files.get('app.js')!;
  const k = app.findIndex((p) => p.by === 'session' && p.text.trim().length > 30);
  const why = await ok(m.lore(['blame', `app.js:${k + 1}`], { cwd: repo }));
  assert.match(why.stdout, /session 019aad50-a7e6-7422-b7a8-0b384290624f \(codex/);
  assert.match(why.stdout, /prompt:/);
  assert.match(why.stdout, /git lore show 019aad50 --at \d+/);
  const log = JSON.parse((await ok(m.lore(['log', '--json', 'HEAD~3..HEAD'], { cwd: repo }))).stdout);
  assert.ok(log.commits.length === 3);
});

test('an edit made after the commit never claims its lines; a line a person changed is the person\'s', async () => {
  const m = new Machine('blame2');
  const repo = m.initRepo(path.join(m.home, 'r'));
  const id = '12345678-0000-4000-8000-000000000001';
  fs.writeFileSync(path.join(repo, 'calc.js'), 'const answer = 42;\nconst other = 1;\n');
  commitAt(m, repo, new Date('2026-03-01T10:00:00Z'), 'person writes it first', 'carol');
  // Later, a session writes the same line again, and a new one; then a person edits the new one.
  const proj = claudeProjectDir(m.claudeDir, repo);
  fs.mkdirSync(proj, { recursive: true });
  const use = (uid: string, ts: string, input: object) =>
    JSON.stringify({ type: 'assistant', sessionId: id, cwd: repo, uuid: uid, timestamp: ts, message: { id: `m-${uid}`, role: 'assistant', content: [{ type: 'tool_use', id: `t-${uid}`, name: 'Write', input }] } });
  fs.writeFileSync(path.join(proj, `${id}.jsonl`), [
    userLine(id, repo, 'u0', 'add a helper', 0),
    use('a1', '2026-03-01T11:00:00Z', { file_path: path.join(repo, 'calc.js'), content: 'const answer = 42;\nconst other = 1;\nfunction helper() { return answer * 2; }\nconst flag = true;\n' }),
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(repo, 'calc.js'), 'const answer = 42;\nconst other = 1;\nfunction helper() { return answer * 2; }\nconst flag = true;\n');
  commitAt(m, repo, new Date('2026-03-01T11:05:00Z'), 'session work');
  fs.writeFileSync(path.join(repo, 'calc.js'), 'const answer = 42;\nconst other = 1;\nfunction helper() { return answer * 2; }\nconst flag = false; // a person disagreed\n');
  commitAt(m, repo, new Date('2026-03-01T12:00:00Z'), 'person tweaks', 'carol');
  const r = JSON.parse((await ok(m.lore(['blame', '--json', 'calc.js'], { cwd: repo }))).stdout);
  assert.deepEqual(r.lines.map((l: { session: { id: string } | null }) => l.session?.id ?? null), [null, null, id, null]);
  // The edit at 11:00 never claims a line committed at 10:00, however the clocks are set: with a
  // 2-hour tolerance it would.
  const lenient = JSON.parse((await ok(m.lore(['blame', '--json', 'calc.js'], { cwd: repo, env: { LORE_BLAME_TOLERANCE: '7200' } }))).stdout);
  assert.equal(lenient.lines[0].session?.id, id);
  const text = await ok(m.lore(['blame', 'calc.js'], { cwd: repo }));
  assert.match(text.stdout.split('\n')[2]!, /12345678 claude-code +2026-03-01 +3\) function helper/);
  const person = await ok(m.lore(['blame', 'calc.js:4'], { cwd: repo }));
  assert.match(person.stdout, /written by a person \(carol\)/);
  const log = JSON.parse((await ok(m.lore(['log', '--json'], { cwd: repo }))).stdout);
  const work = log.commits.find((k: { subject: string }) => k.subject === 'session work');
  assert.equal(work.added, 2);
  assert.deepEqual(work.sessions.map((s: { id: string; share: number }) => [s.id, s.share]), [[id, 1]]);
  assert.equal(work.people.share, 0);
  const tweak = log.commits.find((k: { subject: string }) => k.subject === 'person tweaks');
  assert.deepEqual([tweak.added, tweak.sessions.length, tweak.people.share], [1, 0, 1]);
  const bad = await m.lore(['blame', 'no-such-file.js'], { cwd: repo });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^git-lore: <file> no-such-file.js: not in HEAD\n/);
});
