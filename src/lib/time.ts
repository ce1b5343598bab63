/** `2026-11-22T14:50:47Z`: server created/updated, version documents. */
export function isoSeconds(ms: number | string): string {
  const d = typeof ms === 'string' ? parseStored(ms) : new Date(ms);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2026-11-22T14:50:46.948000` (microseconds, no zone): what the database stores and many Nova fields show. */
export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000');
}

/** Parses a stored timestamp (no zone means UTC). */
export function parseStored(s: string): Date {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
}

/**
 * Parses a client-supplied ISO-8601 time (changes-since and friends), as
 * oslo's parse_isotime accepts it; returns null when it is not one.
 */
export function parseIsoTime(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s.trim());
  if (!m) return null;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ? m[7].slice(0, 4) : ''}${normalizeZone(m[8])}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

function normalizeZone(z: string | undefined): string {
  if (!z || z === 'Z') return 'Z';
  return z.length === 5 ? `${z.slice(0, 3)}:${z.slice(3)}` : z;
}
