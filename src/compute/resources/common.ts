import type { TSchema } from '@sinclair/typebox';
import type { ComputeRequest, Query } from '../../api/route.js';
import { pyRepr } from '../../api/validation.js';
import { credentials } from '../../context.js';
import { badRequest } from '../../errors.js';
import type { ComputeDeps } from '../deps.js';

/** A JSON schema (plain object) where TypeBox's static typing is not needed. */
export const raw = (s: Record<string, unknown>): TSchema => s as unknown as TSchema;

/**
 * A query parameter schema: the edge hands over a string, or an array of
 * strings when the parameter repeats (Nova validates every value).
 */
export function qparam(item: Record<string, unknown> = { type: 'string' }): Record<string, unknown> {
  return { anyOf: [item, { type: 'array', items: item }] };
}

/** A query-string schema of known parameters; `strict` forbids others (2.75 / 2.102). */
export function querySchema(props: Record<string, Record<string, unknown>>, strict: boolean): TSchema {
  return raw({ type: 'object', properties: props, additionalProperties: !strict });
}

/** Nova's non_negative_integer for `limit`. */
export const NON_NEGATIVE_INT = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 };

/** webob's `req.GET[key]` / `req.params.get(key)`: the last value. */
export function lastParam(q: Query, key: string): string | undefined {
  const v = q[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** webob's `req.GET.getall(key)[0]`: the first value. */
export function firstParam(q: Query, key: string): string | undefined {
  const v = q[key];
  return Array.isArray(v) ? v[0] : v;
}

export function hasParam(q: Query, key: string): boolean {
  return q[key] !== undefined;
}

/** Checks a policy rule for the caller; throws Nova's 403 when it denies. */
export function authorize(deps: ComputeDeps, req: ComputeRequest, rule: string, target: Record<string, unknown>): void {
  deps.policy.authorize(rule, target, credentials(req.ctx));
}

/** oslo.policy's default target when Nova calls context.can without one. */
export function defaultTarget(req: ComputeRequest): Record<string, unknown> {
  return { project_id: req.ctx.projectId, user_id: req.ctx.userId };
}

export function allowed(deps: ComputeDeps, req: ComputeRequest, rule: string, target: Record<string, unknown>): boolean {
  return deps.policy.allowed(rule, target, credentials(req.ctx));
}

/** Python's int() on a string (surrounding whitespace, sign and `_` separators allowed); null when it is not one. */
export function pyInt(s: string): number | null {
  const m = /^\s*([+-]?\d+(?:_\d+)*)\s*$/.exec(s);
  if (!m || m[1] === undefined) return null;
  return Number(m[1].replace(/_/g, ''));
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo strutils.bool_from_string: null when `strict` and the value is neither. */
export function boolFromString(v: unknown, strict = false): boolean | null {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (TRUE_STRINGS.includes(s)) return true;
  if (FALSE_STRINGS.includes(s)) return false;
  return strict ? null : false;
}

/** A character Nova's name regex calls printable: not a control/format/unassigned char, no line/paragraph separator, in the BMP. */
function printable(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0xffff) return false;
  if (/\p{C}/u.test(ch)) return false;
  if (/\p{Z}/u.test(ch) && !/\p{Zs}/u.test(ch)) return false;
  return true;
}

/** Nova's `name` format: printable characters, not starting or ending with whitespace. */
export function isValidName(s: string): boolean {
  const chars = [...s];
  if (!chars.every(printable)) return false;
  const edge = (c: string | undefined) => c !== undefined && /\p{Zs}/u.test(c);
  return !(edge(chars[0]) || edge(chars[chars.length - 1]));
}

/** Nova's description regex: printable characters (spaces allowed anywhere). */
export function isValidDescription(s: string): boolean {
  return [...s].every(printable);
}

/** Throws Nova's InvalidName fault for a `name` that fails the name format. */
export function checkName(name: string): void {
  if (!isValidName(name)) {
    throw badRequest("An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.");
  }
}

/** jsonschema's pattern failure, worded as the validator middleware words it. */
export function patternError(field: string, value: string, pattern: string): Error {
  return badRequest(`Invalid input for field/attribute ${field}. Value: ${value}. ${pyRepr(value)} does not match ${pyRepr(pattern)}`);
}

/**
 * Nova's string-aware minimum/maximum (its validator converts numeric strings
 * before comparing): checks a value that passed the type/pattern checks.
 */
export function checkRange(field: string, value: unknown, min: number | null, max: number | null): void {
  if (typeof value !== 'string') return;
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n)) return;
  const shown = Number.isInteger(n) ? String(n) : String(n);
  if (min !== null && n < min) {
    throw badRequest(`Invalid input for field/attribute ${field}. Value: ${value}. ${shown} is less than the minimum of ${min}`);
  }
  if (max !== null && n > max) {
    throw badRequest(`Invalid input for field/attribute ${field}. Value: ${value}. ${shown} is greater than the maximum of ${max}`);
  }
}

/** Resolved `limit`/`marker` as Nova's get_limit_and_marker does: limit capped at [api]max_limit. */
export function limitAndMarker(q: Query, maxLimit: number): { limit: number; marker: string | undefined } {
  const rawLimit = lastParam(q, 'limit');
  let limit = maxLimit;
  if (rawLimit !== undefined) {
    const n = pyInt(rawLimit);
    if (n === null) throw badRequest('limit must be an integer');
    if (n < 0) throw badRequest('limit must be >= 0');
    limit = Math.min(maxLimit, n);
  }
  return { limit, marker: lastParam(q, 'marker') };
}

/**
 * Nova's collection `next` link: present when the page is full (the requested
 * limit, capped at max_limit, equals the number of items). Query parameters
 * are sorted, marker replaced by the last item's id.
 */
export function nextLinks(
  req: ComputeRequest,
  maxLimit: number,
  count: number,
  lastId: string | undefined,
  collection: string,
): { rel: string; href: string }[] {
  const rawLimit = lastParam(req.query, 'limit');
  const asked = rawLimit === undefined ? maxLimit : (pyInt(rawLimit) ?? maxLimit);
  const maxItems = Math.min(asked, maxLimit);
  if (!maxItems || maxItems !== count || lastId === undefined) return [];
  const params = new Map<string, string>();
  for (const key of Object.keys(req.query).sort()) {
    const v = lastParam(req.query, key);
    if (v !== undefined) params.set(key, v);
  }
  params.set('marker', lastId);
  const qs = new URLSearchParams([...params.entries()]).toString();
  return [{ rel: 'next', href: `${req.urls.versioned}/${collection}?${qs}` }];
}

/** `self` and `bookmark` links of a resource. */
export function resourceLinks(req: ComputeRequest, collection: string, id: string): { rel: string; href: string }[] {
  return [
    { rel: 'self', href: `${req.urls.versioned}/${collection}/${id}` },
    { rel: 'bookmark', href: `${req.urls.bookmark}/${collection}/${id}` },
  ];
}

/** Throws 400 unless the body is a JSON object (Nova's "The request body is invalid"-style guard). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed request body');
  return body as Record<string, unknown>;
}
