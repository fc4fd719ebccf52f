// Test helper: `rlaif serve` as a real child process on a free loopback port, stopped when the calling test file's
// tests end. Leaves out: API keys, runs folders, anything but the model flags the caller passes.
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/rlaif.js', import.meta.url));
const children: ChildProcess[] = [];
let registered = false;

/** Starts `rlaif serve --port 0 ...args`; resolves with its base URL once the model is served. Call from a test. */
export function serveProcess(args: string[]): Promise<string> {
  if (!registered) {
    registered = true;
    after(() => { for (const child of children) child.kill(); });
  }
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      const url = /listening on (http:\/\/\S+?);/.exec(log)?.[1];
      if (url && /serving '/.test(log)) resolve(url);
    });
    child.on('exit', (code) => reject(new Error(`rlaif serve exited with ${code}: ${log}`)));
  });
}
