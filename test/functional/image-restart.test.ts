import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { buildCloud, type Cloud } from '../../src/app.js';
import { makeConfig } from '../../src/config/index.js';
import { FakeClock } from '../../src/lib/clock.js';
import { CIRROS_IMAGE_ID } from '../../src/image/index.js';

describe('image persistence across restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-image-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (): Promise<Cloud> =>
    buildCloud({
      config: makeConfig({ data_dir: dir, log_level: 'silent', compute: { timing: 'instant' } }),
      dbPath: join(dir, 'stratus.db'),
      clock: new FakeClock(Date.now()),
      log: pino({ level: 'silent' }),
    });

  const call = async (cloud: Cloud, method: 'GET' | 'POST' | 'PUT', url: string, payload?: Buffer | object, contentType?: string) => {
    const token = await cloud.identity.issueToken('demo');
    const headers: Record<string, string> = { 'x-auth-token': token, accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    const res = await cloud.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: Buffer.isBuffer(payload) ? payload : JSON.stringify(payload) }),
    });
    return res;
  };

  it('keeps images, their data and a single seeded cirros', async () => {
    const data = Buffer.from('persistent image bytes '.repeat(100));
    let id: string;
    let interrupted: string;

    const first = await start();
    try {
      const created = await call(first, 'POST', '/image/v2/images', { name: 'kept', disk_format: 'raw', container_format: 'bare', color: 'blue', tags: ['t'] }, 'application/json');
      assert.equal(created.statusCode, 201, created.body);
      id = (JSON.parse(created.body) as { id: string }).id;
      const up = await call(first, 'PUT', `/image/v2/images/${id}/file`, data, 'application/octet-stream');
      assert.equal(up.statusCode, 204, up.body);
      assert.ok(existsSync(join(dir, 'images', id)), 'data stored under <data_dir>/images');
      assert.ok(existsSync(join(dir, 'images', CIRROS_IMAGE_ID)));
      // An upload cut short by a crash leaves the image 'saving'.
      const cut = await call(first, 'POST', '/image/v2/images', { name: 'cut', disk_format: 'raw', container_format: 'bare' }, 'application/json');
      interrupted = (JSON.parse(cut.body) as { id: string }).id;
      await first.db.updateTable('images').set({ status: 'saving' }).where('id', '=', interrupted).execute();
    } finally {
      await first.close();
    }

    const second = await start();
    try {
      const shown = await call(second, 'GET', `/image/v2/images/${id}`);
      assert.equal(shown.statusCode, 200);
      const img = JSON.parse(shown.body) as Record<string, unknown>;
      assert.equal(img.status, 'active');
      assert.equal(img.color, 'blue');
      assert.deepEqual(img.tags, ['t']);
      assert.equal(img.checksum, createHash('md5').update(data).digest('hex'));
      const dl = await call(second, 'GET', `/image/v2/images/${id}/file`);
      assert.equal(dl.statusCode, 200);
      assert.ok(dl.rawPayload.equals(data));

      const cirros = await call(second, 'GET', '/image/v2/images?name=cirros');
      const list = JSON.parse(cirros.body) as { images: { id: string }[] };
      assert.deepEqual(list.images.map((i) => i.id), [CIRROS_IMAGE_ID]);
      const cirrosData = await call(second, 'GET', `/image/v2/images/${CIRROS_IMAGE_ID}/file`);
      assert.equal(cirrosData.statusCode, 200);

      const recovered = JSON.parse((await call(second, 'GET', `/image/v2/images/${interrupted}`)).body) as { status: string };
      assert.equal(recovered.status, 'queued');
      const retry = await call(second, 'PUT', `/image/v2/images/${interrupted}/file`, data, 'application/octet-stream');
      assert.equal(retry.statusCode, 204);
    } finally {
      await second.close();
    }
  });
});
