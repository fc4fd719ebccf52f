// How `npm run bench` runs its sections: one that fails (an exception, a missing prerequisite) costs its own figures
// only. The run goes on with the next section, says at the end which failed and why, still records every figure it
// printed (--json), and exits 1. A run of ~25 minutes once lost all its figures to the last section: the queue
// section threw when redis-server was not installed, before the JSON was written. Prerequisites that can be checked
// in a moment are checked at the start, so the run says up front that a section will fail.
import { spawnSync } from 'node:child_process';

/** Why a wanted section cannot run on this machine, checked before any section runs; absent when it can. */
export function missingPrerequisite(section: string): string | undefined {
  if (section === 'queue' && spawnSync('redis-server', ['--version']).error) {
    return 'redis-server is not installed: run `bash scripts/ensure-redis.sh` (apt-get install -y redis-server), then `npm run bench -- queue`';
  }
  return undefined;
}

export class SectionRunner {
  /** section → why it failed, in the order they failed */
  readonly failures = new Map<string, string>();

  constructor(private readonly wanted: (section: string) => boolean, private readonly log: (line: string) => void) {}

  /** Checks the wanted sections' prerequisites now; each one missing is printed at once and again at the end. */
  checkPrerequisites(sections: readonly string[]): void {
    for (const section of sections) {
      const why = this.wanted(section) ? missingPrerequisite(section) : undefined;
      if (why) this.log(`# ${section} section will fail: ${why}`);
    }
  }

  /** Runs `body` when `section` is wanted; an error it throws is printed, remembered, and does not stop the run. */
  async run(section: string, body: () => void | Promise<void>): Promise<void> {
    if (!this.wanted(section)) return;
    const missing = missingPrerequisite(section);
    if (missing) {
      this.fail(section, missing);
      return;
    }
    try {
      await body();
    } catch (error) {
      this.fail(section, error instanceof Error ? error.message : String(error));
      if (error instanceof Error && error.stack) this.log(error.stack.split('\n').map((line) => `#   ${line}`).join('\n'));
    }
  }

  /** Prints the failed sections again (the last lines of the run); true when every wanted section ran. */
  summarize(): boolean {
    for (const [section, why] of this.failures) this.log(`# ${section} section FAILED (its figures are missing from this run): ${why}`);
    return this.failures.size === 0;
  }

  private fail(section: string, why: string): void {
    this.failures.set(section, why);
    this.log(`# ${section} section FAILED: ${why}; going on with the other sections`);
  }
}
