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
