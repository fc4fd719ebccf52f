// Keeps credentials out of everything written or logged: the API key's value (and its URL-encoded form), URL user
// info and key-like query parameters, and anything shaped like one (`Bearer …`, `Basic …`, `sk-…`, `"api_key": …`),
// as a server may echo them in an error body. Leaves out secrets in places nobody writes (request bodies). No paper.

const REDACTED = '[redacted]';
const keyLikeParameter = /^(api[_-]?key|key|token|access[_-]?token|secret|password|auth|sig|signature)$/i;
const shapes: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{4,}/gi, `$1$2${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:"']+(?::[^\s/@"']*)?@/gi, `$1${REDACTED}@`],
  [/([?&](?:api[_-]?key|key|token|access[_-]?token|secret|password|auth|sig|signature)=)[^&\s"'#]+/gi, `$1${REDACTED}`],
  [/("?(?:api[_-]?key|x-api-key|authorization|password|secret)"?\s*[:=]\s*"?)(?!\[redacted\]|Bearer\b|Basic\b|Token\b)[^"\s,}&]+/gi, `$1${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, `sk-${REDACTED}`],
];

/** A URL with its user info and key-like query parameters replaced, fit for records and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username) parsed.username = 'redacted';
    if (parsed.password) parsed.password = 'redacted';
    for (const key of [...parsed.searchParams.keys()]) if (keyLikeParameter.test(key)) parsed.searchParams.set(key, 'redacted');
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<unparseable url>';
  }
}

/** The secret values a URL carries: its password, user name and key-like query parameter values. */
export function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    const values = [parsed.username, parsed.password, ...[...parsed.searchParams.entries()].filter(([key]) => keyLikeParameter.test(key)).map(([, value]) => value)];
    return values.map((value) => decodeURIComponent(value)).filter((value) => value.length > 0);
  } catch {
    return [];
  }
}

/**
 * A function removing the given secret values (plain, URL-encoded and base64 as in a Basic header) and anything
 * credential-shaped from a text. Values shorter than 4 characters are left alone (they would shred ordinary text).
 */
export function createRedactor(secrets: Array<string | undefined | null>): (text: string) => string {
  const values = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    values.add(secret);
    values.add(encodeURIComponent(secret));
  }
  const literals = [...values].sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const literal of literals) if (out.includes(literal)) out = out.split(literal).join(REDACTED);
    for (const [pattern, replacement] of shapes) out = out.replace(pattern, replacement);
    return out;
  };
}

/** Redact credential shapes only (no known values). */
export const redactSecrets = createRedactor([]);

/** A copy of a JSON-like value with every string passed through `redact` (records, failures, configs). */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact)])) as T;
  return value;
}
