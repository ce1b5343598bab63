import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../errors.js';
import { ApiVersion } from './microversion.js';
import { pyRepr, schemaFor } from './validation.js';
import { createSchema, updateSchema } from '../compute/servers/schema.js';

const v = (s: string) => ApiVersion.parse(s);
const fails = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 400);
    return e.message;
  }
  assert.fail('expected a 400');
};

describe('versioned schemas', () => {
  it('refuses gaps between microversion ranges at definition', () => {
    const s = Type.Object({}, { additionalProperties: false });
    assert.throws(() => schemaFor({ min: '2.1', max: '2.10', schema: s }, { min: '2.12', schema: s }), /contiguous/);
    assert.doesNotThrow(() => schemaFor({ min: '2.1', max: '2.10', schema: s }, { min: '2.11', schema: s }));
  });

  it('refuses object schemas that do not say additionalProperties', () => {
    assert.throws(() => schemaFor({ schema: Type.Object({ a: Type.String() }) }), /additionalProperties/);
  });

  it('validates against the range of the request microversion', () => {
    const body = { server: { name: 'x', flavorRef: '1', imageRef: '', description: 'd' } };
    assert.match(fails(() => createSchema.check(body, v('2.18'))), /Additional properties are not allowed \('description' was unexpected\)/);
    assert.doesNotThrow(() => createSchema.check(body, v('2.19')));
    assert.match(fails(() => createSchema.check({ server: { name: 'x', flavorRef: '1' } }, v('2.37'))), /'networks' is a required property/);
    assert.match(fails(() => updateSchema.check({ server: { hostname: 'h' } }, v('2.89'))), /'hostname' was unexpected/);
    assert.doesNotThrow(() => updateSchema.check({ server: { hostname: 'h' } }, v('2.90')));
    assert.match(fails(() => updateSchema.check({ server: { hostname: 'a.b' } }, v('2.93'))), /hostname/);
    assert.doesNotThrow(() => updateSchema.check({ server: { hostname: 'a.b' } }, v('2.94')));
  });

  it('words type errors as Nova does', () => {
    const msg = fails(() => createSchema.check({ server: { name: 5, flavorRef: '1' } }, v('2.1')));
    assert.equal(msg, "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'");
    assert.equal(pyRepr({ a: [true, null, 'x'] }), "{'a': [True, None, 'x']}");
  });
});
