// The server's Prometheus metrics in the text exposition format (version 0.0.4): request counts by route and status,
// prompt and generated tokens, request latency as a histogram, the process's CPU seconds (Prometheus' standard name),
// queue depth and running sequences as gauges, the batch engine's time by part of its loop, decode steps and tokens.
// Leaves out a client library: a few counters do not need one.

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class ServerMetrics {
  readonly requests = new Map<string, number>();      // `route|status` → count
  promptTokens = 0;
  generationTokens = 0;
  rejected = 0;                                       // 429s: queue full
  cancelled = 0;                                      // client gone or timed out mid-generation
  readonly latencyCounts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  latencySum = 0;
  latencyCount = 0;

  observe(route: string, status: number, seconds: number): void {
    const key = `${route}|${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    LATENCY_BUCKETS.forEach((bound, i) => { if (seconds <= bound) this.latencyCounts[i]!++; });
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /**
   * The exposition text; `gauges` are read at scrape time (queue depth, running requests, sequences), and so are
   * `counters` kept elsewhere (the batch engine's), each with its labelled values.
   */
  render(gauges: Record<string, { help: string; value: number }>,
    counters: Record<string, { help: string; values: { labels: string; value: number }[] }> = {}): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    metric('rlaif_requests_total', 'counter', 'HTTP requests by route and status');
    for (const [key, count] of this.requests) {
      const [route, status] = key.split('|');
      lines.push(`rlaif_requests_total{route="${route}",status="${status}"} ${count}`);
    }
    metric('rlaif_prompt_tokens_total', 'counter', 'prompt tokens processed');
    lines.push(`rlaif_prompt_tokens_total ${this.promptTokens}`);
    metric('rlaif_generation_tokens_total', 'counter', 'tokens generated');
    lines.push(`rlaif_generation_tokens_total ${this.generationTokens}`);
    metric('rlaif_rejected_requests_total', 'counter', 'requests refused with 429 (concurrency and queue full)');
    lines.push(`rlaif_rejected_requests_total ${this.rejected}`);
    metric('rlaif_cancelled_requests_total', 'counter', 'requests cancelled mid-generation (client disconnected or timed out)');
    lines.push(`rlaif_cancelled_requests_total ${this.cancelled}`);
    metric('rlaif_request_duration_seconds', 'histogram', 'request latency, first byte read to last byte written');
    LATENCY_BUCKETS.forEach((bound, i) => lines.push(`rlaif_request_duration_seconds_bucket{le="${bound}"} ${this.latencyCounts[i]}`));
    lines.push(`rlaif_request_duration_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    lines.push(`rlaif_request_duration_seconds_sum ${this.latencySum}`, `rlaif_request_duration_seconds_count ${this.latencyCount}`);
    const cpu = process.cpuUsage();
    metric('process_cpu_seconds_total', 'counter', 'user and system CPU time of the server process (all its threads), seconds');
    lines.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
    for (const [name, counter] of Object.entries(counters)) {
      metric(name, 'counter', counter.help);
      for (const { labels, value } of counter.values) lines.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
    }
    for (const [name, gauge] of Object.entries(gauges)) {
      metric(name, 'gauge', gauge.help);
      lines.push(`${name} ${gauge.value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
