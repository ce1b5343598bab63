import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

describe('compute edge', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('serves version discovery at /compute/ with 300 and both versions', async () => {
    const res = await cloud.request({ url: '/compute/', as: null });
    assert.equal(res.status, 300);
    const ids = res.body.versions.map((v: { id: string }) => v.id);
    assert.deepEqual(ids, ['v2.0', 'v2.1']);
    assert.equal(res.body.versions[1].version, '2.104');
    assert.equal(res.body.versions[1].min_version, '2.1');
    assert.match(String(res.headers['x-openstack-request-id']), /^req-[0-9a-f-]{36}$/);
  });

  it('serves /compute/v2.1 with media-types', async () => {
    const res = await cloud.request({ url: '/compute/v2.1', as: null });
    assert.equal(res.status, 200);
    assert.equal(res.body.version.id, 'v2.1');
    assert.equal(res.body.version['media-types'][0].type, 'application/vnd.openstack.compute+json;version=2.1');
  });

  it('answers an unknown path with itemNotFound', async () => {
    const res = await cloud.request({ url: '/compute/v2.1/nope' });
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys(res.body), ['itemNotFound']);
  });
});

describe('compute edge: microversions, headers, faults', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('defaults to 2.1 and echoes the version on every response', async () => {
    const res = await cloud.request({ url: '/compute/v2.1/servers' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['openstack-api-version'], 'compute 2.1');
    assert.equal(res.headers['x-openstack-nova-api-version'], '2.1');
    assert.equal(res.headers.vary, 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    assert.match(String(res.headers['x-compute-request-id']), /^req-/);
    assert.equal(res.headers['x-compute-request-id'], res.headers['x-openstack-request-id']);
    assert.equal(res.headers['content-type'], 'application/json; charset=UTF-8');
  });

  it('negotiates latest, the legacy header, and rejects bad versions', async () => {
    const latest = await cloud.request({ url: '/compute/v2.1/servers', version: 'latest' });
    assert.equal(latest.headers['openstack-api-version'], 'compute 2.104');
    const legacy = await cloud.request({ url: '/compute/v2.1/servers', headers: { 'x-openstack-nova-api-version': '2.42' } });
    assert.equal(legacy.headers['x-openstack-nova-api-version'], '2.42');
    const malformed = await cloud.request({ url: '/compute/v2.1/servers', version: '2.x' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.badRequest.message, 'API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.');
    const tooHigh = await cloud.request({ url: '/compute/v2.1/servers', version: '2.999' });
    assert.equal(tooHigh.status, 406);
    assert.deepEqual(tooHigh.body, {
      computeFault: { code: 406, message: 'Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.104.' },
    });
    assert.equal(tooHigh.headers.vary, 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
  });

  it('caps the maximum at the release profile', async () => {
    const old = await startTestCloud({ release: '2024.1' });
    try {
      const res = await old.request({ url: '/compute/v2.1/servers', version: 'latest' });
      assert.equal(res.headers['openstack-api-version'], 'compute 2.96');
      assert.equal((await old.request({ url: '/compute/v2.1/servers', version: '2.97' })).status, 406);
      const doc = await old.request({ url: '/compute/', as: null });
      assert.equal(doc.body.versions[1].version, '2.96');
    } finally {
      await old.close();
    }
  });

  it('returns 404 for a route outside its microversion range, with version headers', async () => {
    const res = await cloud.request({ url: `/compute/v2.1/servers/${'0'.repeat(8)}-0000-0000-0000-000000000000/tags`, version: '2.25' });
    assert.equal(res.status, 404);
    assert.equal(res.headers['openstack-api-version'], 'compute 2.25');
  });

  it('answers a missing or bad token with keystonemiddleware\'s 401', async () => {
    for (const as of [null, { token: 'garbage' }] as const) {
      const res = await cloud.request({ url: '/compute/v2.1/servers', as });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      assert.match(String(res.headers['www-authenticate']), /^Keystone uri="http:\/\/.*\/identity"$/);
    }
  });

  it('rejects malformed JSON, huge bodies and unknown media types', async () => {
    const bad = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', body: '{"server": ' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { badRequest: { code: 400, message: 'Malformed request body' } });
    const huge = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', body: JSON.stringify({ server: { name: 'x'.repeat(200_000) } }) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.overLimit.code, 413);
    const xml = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', body: '<server/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(xml.status, 415);
    assert.equal(xml.body.badMediaType.code, 415);
    const arr = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', body: [1, 2] });
    assert.equal(arr.status, 400);
  });

  it('serves the legacy project-scoped URLs and refuses another project in the URL', async () => {
    const demo = cloud.identity.accounts.find((a) => a.username === 'demo');
    const alt = cloud.identity.accounts.find((a) => a.username === 'alt_demo');
    assert.ok(demo && alt);
    const ok = await cloud.request({ url: `/compute/v2.1/${demo.projectId}/servers?limit=1` });
    assert.equal(ok.status, 200);
    const flavors = await cloud.request({ url: `/compute/v2.1/${demo.projectId}/flavors` });
    assert.equal(flavors.status, 200);
    assert.match(flavors.body.flavors[0].links[0].href, new RegExp(`/compute/v2\\.1/${demo.projectId}/flavors/`));
    const wrong = await cloud.request({ url: `/compute/v2.1/${alt.projectId}/servers` });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.badRequest.message, /^Malformed request URL: URL's project_id/);
  });

  it('gives bad UUIDs in paths a 404, not a 500', async () => {
    for (const url of ['/compute/v2.1/servers/not-a-uuid', '/compute/v2.1/servers/%00', '/compute/v2.1/servers/x/metadata/y']) {
      const res = await cloud.request({ url });
      assert.equal(res.status, 404, url);
    }
  });
});
