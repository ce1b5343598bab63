import { ks } from './errors.js';

/** Python's repr of a JSON value, for Keystone-style validation messages. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `'${k}': ${pyRepr(x)}`)
    .join(', ')}}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export type FieldType = 'string' | 'nullable-string' | 'boolean' | 'tags' | 'object';

export interface FieldSpec {
  type: FieldType;
  min?: number;
  max?: number;
  required?: boolean;
}

/** The entity object under `key` of a request body (e.g. `{"project": {...}}`). */
export function entityOf(body: unknown, key: string): Record<string, unknown> {
  if (!isObject(body)) throw ks.invalidInput('request body', `${pyRepr(body)} is not of type 'object'`);
  const e = body[key];
  if (e === undefined) throw ks.invalidInput('request body', `'${key}' is a required property`);
  if (!isObject(e)) throw ks.invalidInput(key, `${pyRepr(e)} is not of type 'object'`);
  return e;
}

/**
 * Checks the known fields of an entity; unknown fields pass through (Keystone
 * keeps them as extra attributes). On update, at least one field is needed.
 */
export function checkFields(entity: string, input: Record<string, unknown>, spec: Record<string, FieldSpec>, mode: 'create' | 'update'): void {
  if (mode === 'update' && Object.keys(input).length === 0) throw ks.invalidInput(entity, '{} does not have enough properties');
  for (const [key, f] of Object.entries(spec)) {
    const v = input[key];
    if (v === undefined) {
      if (f.required && mode === 'create') throw ks.invalidInput(entity, `'${key}' is a required property`);
      continue;
    }
    switch (f.type) {
      case 'string':
      case 'nullable-string':
        if (v === null && f.type === 'nullable-string') break;
        if (typeof v !== 'string') throw ks.invalidInput(key, `${pyRepr(v)} is not of type 'string'`);
        if (f.min !== undefined && v.length < f.min) throw ks.invalidInput(key, `${pyRepr(v)} is too short`);
        if (f.max !== undefined && v.length > f.max) throw ks.invalidInput(key, `${pyRepr(v)} is too long`);
        if (f.min !== undefined && f.min > 0 && v.trim() === '') throw ks.invalidInput(key, `${pyRepr(v)} does not match '[\\S]+'`);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') throw ks.invalidInput(key, `${pyRepr(v)} is not of type 'boolean'`);
        break;
      case 'tags':
        if (!Array.isArray(v)) throw ks.invalidInput(key, `${pyRepr(v)} is not of type 'array'`);
        for (const t of v as unknown[]) {
          if (typeof t !== 'string' || t.length < 1 || t.length > 255 || t.includes('/') || t.includes(',')) {
            throw ks.invalidInput(key, `${pyRepr(t)} is not a valid tag`);
          }
        }
        break;
      case 'object':
        if (!isObject(v)) throw ks.invalidInput(key, `${pyRepr(v)} is not of type 'object'`);
        break;
    }
  }
}

/** The fields of `input` not in `known`: Keystone's extra attributes. */
export function extras(input: Record<string, unknown>, known: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([k]) => !known.includes(k)));
}

/** Keystone's reading of boolean query filters. */
export function queryBool(v: string): boolean {
  return !['0', 'false', 'f', 'no', 'n', 'off'].includes(v.trim().toLowerCase());
}
