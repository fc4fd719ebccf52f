// Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna) for uniforms, Box–Muller for normals.
// Every sampling call in the toolkit takes one of these so runs are reproducible; state can be saved and restored.
// Seeds for sub-calls come from deriveSeed(seed, label), a hash of both, never from addition (seed + 1 collides with
// the next attempt's seed + attempt).

export class Rng {
  private s: Uint32Array; // (4,) generator state
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    // splitmix32 expands the seed into four non-zero state words
    let x = (seed >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal. */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills a buffer with N(mean, std^2). */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fills a buffer with U(low, high). */
  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.uniform();
    return out;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** Serializable state (for checkpoints). */
  getState(): { s: number[]; spareNormal: number | null } {
    return { s: Array.from(this.s), spareNormal: this.spareNormal };
  }

  setState(state: { s: number[]; spareNormal: number | null }): void {
    if (!Array.isArray(state.s) || state.s.length !== 4) throw new Error('Rng.setState: state.s must hold 4 words');
    this.s.set(state.s);
    this.spareNormal = state.spareNormal;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A number in [0, 1) determined by the text: seeds and seeded choices (principle draws, candidate order), not cache
 * keys. A 53-bit multiply-xorshift hash over UTF-16 code units (two 32-bit lanes, murmur3-style finalisers): about 20×
 * cheaper than a sha256 digest, which cost ~2 µs per request on the judging hot path, and well mixed.
 */
export function hashToUnit(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
}

/**
 * The seed of one named sub-call (`'rationale|0'`, `'verdict|1'`, `'choice|2'`): a 31-bit hash of the parent seed and
 * the label. Distinct labels give unrelated seeds, so a retry never reuses another step's seed, as `seed + attempt`
 * next to `seed + 1` did.
 */
export function deriveSeed(seed: number, label: string): number {
  return Math.floor(hashToUnit(`${seed}|${label}`) * 2 ** 31);
}
