import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

describe('servers: metadata, tags, ips', () => {
  let cloud: TestCloud;
  let id: string;
  before(async () => {
    cloud = await startTestCloud({ quotas: { metadata_items: 3 } });
    id = await boot(cloud, { extra: { metadata: { a: '1' } } });
  });
  after(async () => {
    await cloud.close();
  });
  const url = (p = '') => `/compute/v2.1/servers/${id}${p}`;

  it('lists, merges, replaces, shows and deletes metadata', async () => {
    assert.deepEqual((await cloud.request({ url: url('/metadata') })).body, { metadata: { a: '1' } });
    const merged = await cloud.request({ method: 'POST', url: url('/metadata'), body: { metadata: { b: '2' } } });
    assert.equal(merged.status, 200);
    assert.deepEqual(merged.body.metadata, { a: '1', b: '2' });
    const replaced = await cloud.request({ method: 'PUT', url: url('/metadata'), body: { metadata: { c: '3' } } });
    assert.deepEqual(replaced.body.metadata, { c: '3' });
    const item = await cloud.request({ method: 'PUT', url: url('/metadata/d'), body: { meta: { d: '4' } } });
    assert.equal(item.status, 200);
    assert.deepEqual(item.body, { meta: { d: '4' } });
    assert.deepEqual((await cloud.request({ url: url('/metadata/d') })).body, { meta: { d: '4' } });
    assert.equal((await cloud.request({ method: 'DELETE', url: url('/metadata/d') })).status, 204);
    assert.equal((await cloud.request({ url: url('/metadata/d') })).status, 404);
    const mismatch = await cloud.request({ method: 'PUT', url: url('/metadata/x'), body: { meta: { y: '1' } } });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.badRequest.message, 'Request body and URI mismatch');
    const over = await cloud.request({ method: 'POST', url: url('/metadata'), body: { metadata: { p: '1', q: '2', r: '3' } } });
    assert.equal(over.status, 403);
    assert.equal(over.body.forbidden.message, 'Maximum number of metadata items exceeds 3');
    const tooLong = await cloud.request({ method: 'POST', url: url('/metadata'), body: { metadata: { k: 'v'.repeat(256) } } });
    assert.equal(tooLong.status, 400);
    const members = await cloud.request({ url: url('/metadata'), as: 'alt_demo' });
    assert.equal(members.status, 404);
  });

  it('manages tags from 2.26', async () => {
    const v = '2.26';
    assert.equal((await cloud.request({ url: url('/tags'), version: '2.25' })).status, 404);
    assert.deepEqual((await cloud.request({ url: url('/tags'), version: v })).body, { tags: [] });
    const put = await cloud.request({ method: 'PUT', url: url('/tags/blue'), version: v });
    assert.equal(put.status, 201);
    assert.match(String(put.headers.location), /\/tags\/blue$/);
    assert.equal((await cloud.request({ method: 'PUT', url: url('/tags/blue'), version: v })).status, 204);
    assert.equal((await cloud.request({ url: url('/tags/blue'), version: v })).status, 204);
    assert.equal((await cloud.request({ url: url('/tags/red'), version: v })).status, 404);
    const all = await cloud.request({ method: 'PUT', url: url('/tags'), version: v, body: { tags: ['x', 'y'] } });
    assert.deepEqual(all.body, { tags: ['x', 'y'] });
    assert.equal((await cloud.request({ method: 'DELETE', url: url('/tags/x'), version: v })).status, 204);
    assert.deepEqual((await cloud.request({ url: url('/tags'), version: v })).body, { tags: ['y'] });
    assert.equal((await cloud.request({ method: 'DELETE', url: url('/tags'), version: v })).status, 204);
    assert.deepEqual((await cloud.request({ url: url('/tags'), version: v })).body, { tags: [] });
    const bad = await cloud.request({ method: 'PUT', url: url('/tags'), version: v, body: { tags: ['a,b'] } });
    assert.equal(bad.status, 400);
  });

  it('lists addresses by network', async () => {
    const all = await cloud.request({ url: url('/ips') });
    assert.equal(all.status, 200);
    const priv = all.body.addresses.private as { version: number; addr: string }[];
    assert.ok(priv.some((a) => a.version === 4));
    assert.ok(priv.some((a) => a.version === 6));
    assert.deepEqual(Object.keys(priv[0] ?? {}).sort(), ['addr', 'version']);
    assert.deepEqual((await cloud.request({ url: url('/ips/private') })).body, { private: priv });
    assert.equal((await cloud.request({ url: url('/ips/nope') })).status, 404);
  });
});
