/**
 * The layering of src/, checked by `npm run lint` (and so by `npm test` and CI).
 * docs/architecture.md draws the same picture; this file is what enforces it.
 *
 * Layers, lowest first. A module may import its own layer and any layer below it, never above.
 */
const layers = [
  // 0: leaves shared by everyone: the error family, the Env, debug namespaces, redaction,
  //    plain types (model/), the chunker, ambient declarations.
  { name: 'leaves', path: '^src/(errors|env|log|redact)\\.ts$|^src/(model|chunk|types)/' },
  // 1: the one spawner; the crypto primitives.
  { name: 'process-crypto', path: '^src/(process|crypto)/' },
  // 2: subsystems over a single resource: the local store (SQLite, pieces), the git binary.
  { name: 'store-git', path: '^src/(store|git)/' },
  // 3: the agents.
  { name: 'sources', path: '^src/sources/' },
  // 4: the on-ref format.
  { name: 'format', path: '^src/format/' },
  // 5: use cases.
  { name: 'core', path: '^src/core/' },
  // 6: front ends: the remote helper, then the CLI (which may start the helper's main).
  { name: 'remote', path: '^src/remote/' },
  { name: 'cli', path: '^src/cli/' },
];

const upward = layers.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} (layer ${i}) must not import a higher layer: see docs/architecture.md`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: layers.slice(i + 1).map((l) => `(${l.path})`).join('|') },
}));

/** A package that exactly one folder may load. */
const ownedPackage = (name, pkg, owner, why) => ({
  name,
  comment: why,
  severity: 'error',
  from: { path: '^src/', pathNot: owner },
  to: { path: `(^|/)node_modules/${pkg}/|^${pkg}$` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one: split the shared part into a lower module',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'child-process-only-in-process',
      comment: 'every child process starts in src/process/spawn.ts (scrubbed environment, one error policy)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/process/' },
      to: { path: '^(node:)?child_process$', dependencyTypes: ['core'] },
    },
    // lore.db's SQL lives in src/store/. The one other database git-lore opens is an agent's own
    // (OpenCode keeps its sessions in SQLite): that is the agent's file format, owned by its source
    // as a JSONL layout is, and only its database.ts may open it.
    ownedPackage('sqlite-only-in-store', 'better-sqlite3', '^src/store/|^src/sources/opencode/database\\.ts$', 'all SQL lives in src/store/ (an agent\'s own database: in its source\'s database.ts)'),
    ownedPackage('tar-only-in-store', 'tar-stream', '^src/store/', 'format 1 bundles are read by src/store/bundle.ts only'),
    ownedPackage('argon2-only-in-crypto', 'argon2', '^src/crypto/', 'key derivation lives in src/crypto/'),
    {
      name: 'no-orphans',
      comment: 'a module nothing imports is dead code (entry points excepted)',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '^src/cli/(main|remote-helper|import-meta|string-width)\\.ts$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
