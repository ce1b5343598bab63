import { isoMicro, parseIsoTime } from '../lib/time.js';
import { badRequest } from './errors.js';
import type { ImageRow } from './tables.js';

export type Query = Record<string, string | string[] | undefined>;

export const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

/** A condition on an image column. */
export type ColumnFilter =
  | { kind: 'in'; column: FilterColumn; values: string[] }
  | { kind: 'cmp'; column: FilterColumn; op: '=' | '!=' | '>' | '>=' | '<' | '<='; value: string | number };

export type FilterColumn = Exclude<keyof ImageRow, 'deleted' | 'deleted_at'>;

export interface ListParams {
  limit: number;
  marker?: string;
  sort: { key: SortKey; dir: SortDir }[];
  memberStatus: 'pending' | 'accepted' | 'rejected' | 'all';
  visibility?: 'community' | 'public' | 'private' | 'shared' | 'all';
  tags: string[];
  columns: ColumnFilter[];
  /** Extra-property equality filters. */
  properties: [string, string][];
}

const COLUMNS = new Set<string>([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'owner',
  'size',
  'virtual_size',
  'min_disk',
  'min_ram',
  'disk_format',
  'container_format',
  'created_at',
  'updated_at',
]);
const NUMERIC = new Set(['size', 'virtual_size', 'min_disk', 'min_ram']);
const OP_COLUMNS = new Set(['name', 'id', 'status', 'container_format', 'disk_format']);
const TIME_OPS: Record<string, '=' | '!=' | '>' | '>=' | '<' | '<='> = { gt: '>', gte: '>=', lt: '<', lte: '<=', neq: '!=', eq: '=' };

const all = (q: Query, key: string): string[] => {
  const v = q[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
};
/** The last value of a repeated parameter, as a Python dict of the query would keep. */
const last = (q: Query, key: string): string | undefined => all(q, key).at(-1);

/** Splits `op:value`; an ISO time with colons and no operator is an equality. */
export function splitFilterOp(expr: string): { op: string; value: string } {
  const i = expr.indexOf(':');
  if (i < 0) return { op: 'eq', value: expr };
  if (parseIsoTime(expr) !== null) return { op: 'eq', value: expr };
  return { op: expr.slice(0, i), value: expr.slice(i + 1) };
}

/** Splits an `in:` list on commas; double quotes protect commas, backslash escapes a quote. */
export function splitInValues(value: string): string[] {
  // Opening quotes must follow a comma (or start the value).
  let open = true;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"' || (i > 0 && value[i - 1] === '\\')) continue;
    if (open) {
      if (i > 0 && value[i - 1] !== ',') throw badRequest(`Invalid filter value ${value}. There is no comma before opening quotation mark.`);
    } else if (i + 1 < value.length && value[i + 1] !== ',') {
      throw badRequest(`Invalid filter value ${value}. There is no comma after closing quotation mark.`);
    }
    open = !open;
  }
  if (!open) throw badRequest(`Invalid filter value ${value}. The quote is not closed.`);
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === '"') {
      let j = i + 1;
      let s = '';
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) {
          s += value.slice(j, j + 2);
          j += 2;
        } else {
          s += value[j];
          j += 1;
        }
      }
      out.push(s);
      i = j + 1;
      if (value[i] === ',') i += 1;
    } else if (value[i] === ',') {
      out.push('');
      i += 1;
    } else {
      const j = value.indexOf(',', i);
      const end = j < 0 ? value.length : j;
      out.push(value.slice(i, end));
      i = j < 0 ? value.length : j + 1;
    }
  }
  return out;
}

function parseLimit(raw: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest('limit param must be an integer');
  const n = Number(raw);
  if (n < 0) throw badRequest('limit param must be positive');
  return n;
}

function sortKey(raw: string): SortKey {
  const k = raw.trim();
  if (!(SORT_KEYS as readonly string[]).includes(k)) {
    throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  }
  return k as SortKey;
}

function sortDir(raw: string): SortDir {
  const d = raw.trim();
  if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
  return d;
}

function parseSort(q: Query): { key: SortKey; dir: SortDir }[] {
  const keys: SortKey[] = [];
  const dirs: SortDir[] = [];
  const sort = last(q, 'sort');
  if (sort !== undefined) {
    if (q.sort_key !== undefined || q.sort_dir !== undefined) throw badRequest('Old and new sorting syntax cannot be combined');
    for (const part of sort.trim().split(',')) {
      const i = part.indexOf(':');
      const k = i < 0 ? part : part.slice(0, i);
      const d = i < 0 ? '' : part.slice(i + 1);
      keys.push(sortKey(k));
      dirs.push(d.trim() === '' ? 'desc' : sortDir(d));
    }
  } else {
    for (const k of all(q, 'sort_key')) keys.push(sortKey(k));
    for (const d of all(q, 'sort_dir')) dirs.push(sortDir(d));
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
  }
  if (keys.length === 0) keys.push('created_at');
  let fallback: SortDir = 'desc';
  if (dirs.length === 0) dirs.push('desc');
  if (dirs.length === 1) {
    fallback = dirs[0] ?? 'desc';
    while (dirs.length < keys.length) dirs.push(fallback);
  }
  const out = keys.map((key, i) => ({ key, dir: dirs[i] ?? fallback }));
  for (const k of ['created_at', 'id'] as const) if (!keys.includes(k)) out.push({ key: k, dir: fallback });
  return out;
}

const RESERVED_PARAMS = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status', 'visibility', 'tag']);

/** Parses GET /v2/images query parameters; a 400 in Glance's words for bad ones. */
export function parseListQuery(q: Query): ListParams {
  const limitRaw = last(q, 'limit');
  const limit = Math.min(MAX_LIMIT, limitRaw === undefined ? DEFAULT_LIMIT : parseLimit(limitRaw));
  const memberStatus = last(q, 'member_status') ?? 'accepted';
  if (memberStatus !== 'pending' && memberStatus !== 'accepted' && memberStatus !== 'rejected' && memberStatus !== 'all') {
    throw badRequest(`Invalid status: ${memberStatus}`);
  }
  const visibility = last(q, 'visibility');
  if (visibility !== undefined && visibility !== '' && !['community', 'public', 'private', 'shared', 'all'].includes(visibility)) {
    throw badRequest(`Invalid visibility value: ${visibility}`);
  }
  if (last(q, 'changes-since')) throw badRequest('The "changes-since" filter is no longer available on v2.');
  const tags = all(q, 'tag').map((t) => t.trim());
  const sort = parseSort(q);

  const columns: ColumnFilter[] = [];
  const properties: [string, string][] = [];

  const osHidden = (last(q, 'os_hidden') ?? 'false').toLowerCase();
  if (osHidden !== 'true' && osHidden !== 'false') {
    throw badRequest(`Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);
  }
  columns.push({ kind: 'cmp', column: 'os_hidden', op: '=', value: osHidden === 'true' ? 1 : 0 });

  for (const key of Object.keys(q)) {
    if (RESERVED_PARAMS.has(key) || key === 'os_hidden') continue;
    const value = last(q, key);
    if (value === undefined) continue;
    if (key === 'protected') {
      if (value !== 'true' && value !== 'false') {
        throw badRequest(`Invalid value '${value}' for 'protected' filter. Valid values are 'true' or 'false'.`);
      }
      columns.push({ kind: 'cmp', column: 'protected', op: '=', value: value === 'true' ? 1 : 0 });
      continue;
    }
    if (key.endsWith('_min') || key.endsWith('_max')) {
      const col = key.slice(0, -4);
      if (NUMERIC.has(col)) {
        if (!/^\s*[+-]?\d+\s*$/.test(value)) throw badRequest('Unable to filter on a range with a non-numeric value.');
        columns.push({ kind: 'cmp', column: col as FilterColumn, op: key.endsWith('_min') ? '>=' : '<=', value: Number(value) });
        continue;
      }
    }
    if (key === 'created_at' || key === 'updated_at') {
      const { op, value: when } = splitFilterOp(value);
      const t = parseIsoTime(when);
      if (t === null) throw badRequest(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
      const sqlOp = Object.hasOwn(TIME_OPS, op) ? TIME_OPS[op] : undefined;
      if (sqlOp === undefined) throw badRequest('Unable to filter on a unknown operator.');
      columns.push({ kind: 'cmp', column: key, op: sqlOp, value: isoMicro(t.getTime()) });
      continue;
    }
    if (OP_COLUMNS.has(key)) {
      const { op, value: v } = splitFilterOp(value);
      if (op === 'in') columns.push({ kind: 'in', column: key as FilterColumn, values: splitInValues(v) });
      else if (op === 'eq') columns.push({ kind: 'cmp', column: key as FilterColumn, op: '=', value: v });
      else throw badRequest(`Unable to filter by unknown operator '${op}'.`);
      continue;
    }
    if (COLUMNS.has(key)) {
      columns.push({ kind: 'cmp', column: key as FilterColumn, op: '=', value: NUMERIC.has(key) && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value });
      continue;
    }
    properties.push([key, value]);
  }

  const out: ListParams = { limit, sort, memberStatus, tags, columns, properties };
  const marker = last(q, 'marker');
  if (marker !== undefined) out.marker = marker;
  if (visibility !== undefined && visibility !== '') out.visibility = visibility as NonNullable<ListParams['visibility']>;
  return out;
}

/** Orders rows by the sort keys; NULL sorts before any value, as in SQL ascending order. */
export function compareRows(a: ImageRow, b: ImageRow, sort: ListParams['sort']): number {
  for (const { key, dir } of sort) {
    const x = a[key];
    const y = b[key];
    const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return dir === 'asc' ? c : -c;
  }
  return 0;
}

