import { resolvePaths, type Env, type Paths } from '../env.js';
import { LoreDb } from '../store/db.js';
import { corruptStore } from '../errors.js';
import { machineId } from '../store/home.js';
import { Git } from '../git/git.js';

/**
 * What every use case works with: the explicit environment, resolved paths and the local store
 * (opened lazily, closed by `close`). Built once per command by the CLI, or by a test.
 */
export class LoreContext {
  readonly env: Env;
  readonly paths: Paths;
  private dbHandle: LoreDb | undefined;
  private machine: string | undefined;
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

  close(): void {
    this.dbHandle?.close();
    this.dbHandle = undefined;
  }
}
