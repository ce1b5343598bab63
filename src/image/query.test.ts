import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GlanceError } from './errors.js';
import { compareRows, parseListQuery, splitFilterOp, splitInValues } from './query.js';
import type { ImageRow } from './tables.js';

const status400 = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof GlanceError && e.status === 400 && pattern.test(e.message));

describe('image list query parsing', () => {
  it('defaults to 25 newest first with created_at and id tie-breakers, hiding os_hidden images', () => {
    const p = parseListQuery({});
    assert.equal(p.limit, 25);
    assert.deepEqual(p.sort, [
      { key: 'created_at', dir: 'desc' },
      { key: 'id', dir: 'desc' },
    ]);
    assert.equal(p.memberStatus, 'accepted');
    assert.deepEqual(p.columns, [{ kind: 'cmp', column: 'os_hidden', op: '=', value: 0 }]);
  });

  it('caps the limit at 1000 and rejects non-integers and negatives', () => {
    assert.equal(parseListQuery({ limit: '5000' }).limit, 1000);
    status400(() => parseListQuery({ limit: 'x' }), /limit param must be an integer/);
    status400(() => parseListQuery({ limit: '-3' }), /limit param must be positive/);
  });

  it('reads both sorting syntaxes', () => {
    assert.deepEqual(parseListQuery({ sort: 'name:asc,size' }).sort, [
      { key: 'name', dir: 'asc' },
      { key: 'size', dir: 'desc' },
      { key: 'created_at', dir: 'desc' },
      { key: 'id', dir: 'desc' },
    ]);
    assert.deepEqual(parseListQuery({ sort_key: ['name', 'status'], sort_dir: 'asc' }).sort, [
      { key: 'name', dir: 'asc' },
      { key: 'status', dir: 'asc' },
      { key: 'created_at', dir: 'asc' },
      { key: 'id', dir: 'asc' },
    ]);
    status400(() => parseListQuery({ sort_key: 'owner' }), /Invalid sort key: owner\. It must be one of the following: name, status/);
    status400(() => parseListQuery({ sort: 'name:up' }), /Invalid sort direction: up/);
    status400(() => parseListQuery({ sort: 'name', sort_dir: 'asc' }), /cannot be combined/);
    status400(() => parseListQuery({ sort_key: 'name', sort_dir: ['asc', 'desc'] }), /Number of sort dirs/);
  });

  it('turns filters into column, tag and property conditions', () => {
    const p = parseListQuery({ name: 'in:a,"b,c"', tag: ['x', 'y'], size_min: '10', hw_disk_bus: 'scsi', protected: 'true', os_hidden: 'true' });
    assert.deepEqual(p.tags, ['x', 'y']);
    assert.deepEqual(p.properties, [['hw_disk_bus', 'scsi']]);
    assert.deepEqual(
      p.columns.find((c) => c.column === 'name'),
      { kind: 'in', column: 'name', values: ['a', 'b,c'] },
    );
    assert.deepEqual(
      p.columns.find((c) => c.column === 'size'),
      { kind: 'cmp', column: 'size', op: '>=', value: 10 },
    );
    assert.deepEqual(
      p.columns.find((c) => c.column === 'os_hidden'),
      { kind: 'cmp', column: 'os_hidden', op: '=', value: 1 },
    );
    const t = parseListQuery({ updated_at: 'lt:2026-01-02T03:04:05Z' }).columns.find((c) => c.column === 'updated_at');
    assert.deepEqual(t, { kind: 'cmp', column: 'updated_at', op: '<', value: '2026-01-02T03:04:05.000000' });
  });

  it('rejects bad filter values with Glance messages', () => {
    status400(() => parseListQuery({ visibility: 'world' }), /Invalid visibility value: world/);
    status400(() => parseListQuery({ member_status: 'x' }), /Invalid status: x/);
    status400(() => parseListQuery({ size_max: 'big' }), /non-numeric/);
    status400(() => parseListQuery({ name: 'like:a' }), /unknown operator 'like'/);
    status400(() => parseListQuery({ created_at: 'yesterday' }), /ISO 8601/);
    status400(() => parseListQuery({ 'changes-since': '2020-01-01' }), /no longer available/);
    status400(() => parseListQuery({ os_hidden: 'yes' }), /'os_hidden' filter/);
  });

  it('splits operators and in: lists', () => {
    assert.deepEqual(splitFilterOp('in:a,b'), { op: 'in', value: 'a,b' });
    assert.deepEqual(splitFilterOp('2026-01-01T00:00:00Z'), { op: 'eq', value: '2026-01-01T00:00:00Z' });
    assert.deepEqual(splitFilterOp('plain'), { op: 'eq', value: 'plain' });
    assert.deepEqual(splitInValues('a,,b,'), ['a', '', 'b']);
    assert.deepEqual(splitInValues('"x,y",z'), ['x,y', 'z']);
    assert.throws(() => splitInValues('a"b"'), GlanceError);
  });

  it('orders NULL before values and honours directions', () => {
    const row = (id: string, name: string | null): ImageRow =>
      ({ id, name, created_at: '2026-01-01T00:00:00.000000' }) as ImageRow;
    const sort = parseListQuery({ sort: 'name:asc' }).sort;
    const rows = [row('3', 'b'), row('1', null), row('2', 'a')];
    rows.sort((a, b) => compareRows(a, b, sort));
    assert.deepEqual(rows.map((r) => r.id), ['1', '2', '3']);
  });
});
