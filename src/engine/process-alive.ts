// Whether a process is alive, for the lock files that name their holder's pid (the tuning lock, run folders, the
// DuckDB staging folders, the dashboard's live runs). In the engine layer because every layer above may need it.
// Leaves out: pids of other machines or PID namespaces (a lock there reads as held by whatever has that pid here).

/** Whether process `pid` is alive on this machine (EPERM: it is, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
