// A real redis-server for the queue tests: started on a free loopback port with its own temp folder and an
// append-only file fsynced on every write (so a restart mid-stage loses nothing), stopped (SIGTERM or kill -9) and
// restarted on the same port by the fault tests. Test-only; needs Debian's redis-server (scripts/ensure-redis.sh).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;            // redis://127.0.0.1:<port>
  port: number;
  /** Stops the server: SIGTERM (clean shutdown) or SIGKILL (a crash; the fsynced AOF keeps every write). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startTestRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed: run `bash scripts/ensure-redis.sh` (apt-get install -y redis-server)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-redis-')), port = await freePort();
  let child: ChildProcess | null = null;
  const start = () => new Promise<void>((resolve, reject) => {
    const process_ = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'yes', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) { process_.stdout!.off('data', onData); process_.stdout!.resume(); resolve(); }
    };
    process_.stdout!.on('data', onData);
    process_.stderr!.resume();
    process_.once('exit', (code) => { if (!out.includes('Ready to accept connections')) reject(new Error(`redis-server on port ${port} exited (${code}): ${out.slice(-500)}`)); });
    child = process_;
  });
  const stop = (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => new Promise<void>((resolve) => {
    const process_ = child;
    child = null;
    if (!process_ || process_.exitCode !== null || process_.signalCode !== null) { resolve(); return; }
    process_.once('exit', () => resolve());
    process_.kill(signal);
  });
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start,
    close: async () => { await stop('SIGKILL'); rmSync(dir, { recursive: true, force: true }); } };
}
