// Admission of generation requests: at most `concurrency` run at once, at most `queue` wait (FIFO); past both a request
// is refused at once (the server answers 429 with Retry-After) instead of piling up. A waiter whose client leaves is
// dropped from the queue. Leaves out priorities and per-key quotas.

export class QueueFullError extends Error {}

export class Admission {
  #running = 0;
  readonly #waiting: { admit: () => void; signal: AbortSignal }[] = [];

  constructor(readonly concurrency: number, readonly queue: number) {}

  get running(): number { return this.#running; }
  get waiting(): number { return this.#waiting.length; }

  /** Resolves with a release function once the request may run; throws QueueFullError when full. */
  acquire(signal: AbortSignal): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#next();
    };
    if (this.#running < this.concurrency) { this.#running++; return Promise.resolve(release); }
    if (this.#waiting.length >= this.queue) return Promise.reject(new QueueFullError(`${this.#running} requests running and ${this.#waiting.length} waiting: the server is full`));
    return new Promise((resolve, reject) => {
      const waiter = { admit: () => { signal.removeEventListener('abort', onAbort); this.#running++; resolve(release); }, signal };
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #next(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) this.#waiting.shift()!.admit();
  }
}
