import { resolvePaths, type Env, type Paths } from '../env.js';
import { LoreDb } from '../store/db.js';
import { corruptStore } from '../errors.js';
import { machineId } from '../store/home.js';
import { Git, type RepoInfo } from '../git/git.js';
import fs from 'node:fs';

/**
 * What every use case works with: the explicit environment, resolved paths and the local store
 * (opened lazily, closed by `close`). Built once per command by the CLI, or by a test.
 */
export class LoreContext {
  readonly env: Env;
  readonly paths: Paths;
  private dbHandle: LoreDb | undefined;
  private machine: string | undefined;
  /**
   * `git rev-parse` answers by real folder, for this command only: a sync asks for its own
   * repository, and its capture for the folder each new session was recorded in (usually the same).
   */
  private readonly repoInfos = new Map<string, Promise<RepoInfo | null>>();
  /** How long to wait for another process's database lock (hooks wait less: they must not slow git). */
  busyTimeoutMs = 10000;

  constructor(env: Env) {
    this.env = env;
    this.paths = resolvePaths(env);
  }

  get db(): LoreDb {
    if (!this.dbHandle) {
      try {
        this.dbHandle = LoreDb.open(this.paths.loreHome, this.busyTimeoutMs);
      } catch (err) {
        throw corruptStore(err) ?? err;
      }
      this.machine ??= machineId(this.paths.loreHome);
    }
    return this.dbHandle;
  }

  get machineId(): string {
    this.machine ??= machineId(this.paths.loreHome);
    return this.machine;
  }

  /** A git handle on a folder (default: the current directory). */
  git(dir: string = this.env.cwd): Git {
    return new Git(this.env, dir);
  }

  /** The repository containing `dir` (its real path), asked of git once per command. */
  repoInfo(dir: string = this.env.cwd): Promise<RepoInfo | null> {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      real = dir;
    }
    let p = this.repoInfos.get(real);
    if (!p) {
      p = this.git(real).repoInfo();
      this.repoInfos.set(real, p);
    }
    return p;
  }

  close(): void {
    this.dbHandle?.close();
    this.dbHandle = undefined;
  }
}
