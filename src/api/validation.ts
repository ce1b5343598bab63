import type { TSchema } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileSchema } from '../lib/ajv.js';
import { badRequest } from '../errors.js';
import { ApiVersion } from './microversion.js';

export interface SchemaRange {
  /** First microversion the schema applies to (inclusive); default 2.1. */
  min?: string;
  /** Last microversion the schema applies to (inclusive); default: no end. */
  max?: string;
  schema: TSchema;
}

interface Compiled {
  min: ApiVersion;
  max: ApiVersion | null;
  validate: ValidateFunction;
}

/**
 * A set of schemas for one request body or query string, each for a
 * microversion range. Compiled once when the route is registered; ranges must
 * be contiguous and every object schema must say additionalProperties, as
 * Nova asserts at import time.
 */
export class VersionedSchema {
  private readonly ranges: Compiled[];
  constructor(ranges: SchemaRange[]) {
    this.ranges = ranges.map((r) => {
      assertAdditionalProperties(r.schema, '');
      return {
        min: ApiVersion.parse(r.min ?? '2.1'),
        max: r.max === undefined ? null : ApiVersion.parse(r.max),
        validate: compileSchema(r.schema),
      };
    });
    for (let i = 1; i < this.ranges.length; i++) {
      const prev = this.ranges[i - 1];
      const cur = this.ranges[i];
      if (!prev || !cur || prev.max === null || prev.max.minor + 1 !== cur.min.minor) {
        throw new Error(`schema ranges must be contiguous (range ${i})`);
      }
    }
  }

  /** Validates `value` at `mv`; a body outside every range is not checked. Throws 400 like Nova. */
  check(value: unknown, mv: ApiVersion): void {
    const r = this.ranges.find((c) => mv.compare(c.min) >= 0 && (c.max === null || mv.compare(c.max) <= 0));
    if (!r) return;
    if (!r.validate(value)) {
      throw badRequest(describe(r.validate.errors?.[0], value));
    }
  }
}

export function schemaFor(...ranges: SchemaRange[]): VersionedSchema {
  return new VersionedSchema(ranges);
}

function assertAdditionalProperties(schema: unknown, path: string): void {
  if (schema === null || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if (s.type === 'object' && s.properties !== undefined && s.additionalProperties === undefined && s.patternProperties === undefined) {
    throw new Error(`object schema at '${path || '/'}' must say additionalProperties`);
  }
  for (const [k, v] of Object.entries(s)) {
    if (Array.isArray(v)) v.forEach((item, i) => assertAdditionalProperties(item, `${path}/${k}/${i}`));
    else if (v !== null && typeof v === 'object') assertAdditionalProperties(v, `${path}/${k}`);
  }
}

/** Python's repr of a JSON value, as jsonschema's messages show it. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return String(v);
}

const PY_TYPES: Record<string, string> = { integer: 'integer', number: 'number', string: 'string', boolean: 'boolean', object: 'object', array: 'array', null: 'null' };

function valueAt(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Turns the first Ajv error into jsonschema/Nova wording. */
export function describe(err: ErrorObject | undefined, root: unknown): string {
  if (!err) return 'Invalid input';
  const params = err.params as Record<string, unknown>;
  if (err.keyword === 'required') return `'${String(params.missingProperty)}' is a required property`;
  if (err.keyword === 'additionalProperties') {
    return `Additional properties are not allowed ('${String(params.additionalProperty)}' was unexpected)`;
  }
  const value = valueAt(root, err.instancePath);
  const field = err.instancePath.split('/').pop() ?? '';
  let message: string;
  switch (err.keyword) {
    case 'type': {
      const t = String(params.type).split(',').map((x) => `'${PY_TYPES[x] ?? x}'`).join(', ');
      message = `${pyRepr(value)} is not of type ${t}`;
      break;
    }
    case 'minLength':
      message = value === '' ? `${pyRepr(value)} should be non-empty` : `${pyRepr(value)} is too short`;
      break;
    case 'maxLength':
      message = `${pyRepr(value)} is too long`;
      break;
    case 'pattern':
      message = `${pyRepr(value)} does not match ${pyRepr(params.pattern)}`;
      break;
    case 'enum':
      message = `${pyRepr(value)} is not one of ${pyRepr(params.allowedValues)}`;
      break;
    case 'const':
      message = `${pyRepr(params.allowedValue)} was expected`;
      break;
    case 'minimum':
      message = `${pyRepr(value)} is less than the minimum of ${String(params.limit)}`;
      break;
    case 'maximum':
      message = `${pyRepr(value)} is greater than the maximum of ${String(params.limit)}`;
      break;
    case 'minItems':
      message = `${pyRepr(value)} is too short`;
      break;
    case 'maxItems':
      message = `${pyRepr(value)} is too long`;
      break;
    case 'uniqueItems':
      message = `${pyRepr(value)} has non-unique elements`;
      break;
    case 'minProperties':
      message = `${pyRepr(value)} does not have enough properties`;
      break;
    case 'maxProperties':
      message = `${pyRepr(value)} has too many properties`;
      break;
    case 'format':
      message = `${pyRepr(value)} is not a '${String(params.format)}'`;
      break;
    default:
      message = `${pyRepr(value)} is not valid under any of the given schemas`;
  }
  return `Invalid input for field/attribute ${field}. Value: ${typeof value === 'string' ? value : pyRepr(value)}. ${message}`;
}
