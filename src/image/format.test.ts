import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyQcow2, virtualSize } from './format.js';
import { parseRange } from './service.js';
import { FileImageStore, MemoryImageStore } from './store.js';
import { GlanceError } from './errors.js';
import { seededUuid } from './seed.js';

describe('image formats', () => {
  it('builds a small qcow2 whose header carries the virtual size', () => {
    const img = emptyQcow2(112 * 1024 * 1024);
    assert.equal(img.length, 16384);
    assert.equal(img.readUInt32BE(0), 0x514649fb);
    assert.equal(img.readUInt32BE(4), 2);
    assert.equal(virtualSize('qcow2', img, img.length), 112 * 1024 * 1024);
    assert.equal(virtualSize('raw', Buffer.from('abc'), 3), 3);
    assert.equal(virtualSize('vmdk', Buffer.from('abc'), 3), null);
  });

  it('derives stable version-5 style UUIDs for seeds', () => {
    assert.equal(seededUuid('image:cirros'), seededUuid('image:cirros'));
    assert.match(seededUuid('image:cirros'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('parses byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=9-3', 100), 'unsatisfiable');
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange(undefined, 100), undefined);
  });
});

describe('image stores', () => {
  const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

  it('hash while writing and read ranges back (memory)', async () => {
    const store = new MemoryImageStore();
    const r = await store.write('a', chunks('hello ', 'world'), 100);
    assert.equal(r.size, 11);
    assert.equal(r.checksum, '5eb63bbbe01eeed093cb22bb8f5acdc3');
    const back: Buffer[] = [];
    for await (const c of store.read('a', { start: 6, end: 10 })) back.push(c as Buffer);
    assert.equal(Buffer.concat(back).toString(), 'world');
  });

  it('leaves nothing behind when a file write fails or exceeds the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-store-'));
    try {
      const store = new FileImageStore(dir);
      await assert.rejects(store.write('big', chunks('0123456789', '0123456789'), 15), (e: unknown) => e instanceof GlanceError && e.status === 413);
      async function* broken(): AsyncIterable<Uint8Array> {
        yield Buffer.from('partial');
        throw new Error('client went away');
      }
      await assert.rejects(store.write('broken', broken(), 100), /client went away/);
      assert.deepEqual(readdirSync(dir), []);
      await store.write('ok', chunks('data'), 100);
      assert.equal(await store.has('ok'), true);
      await store.move('ok', 'moved');
      assert.deepEqual(readdirSync(dir), ['moved']);
      await store.delete('moved');
      assert.equal(await store.has('moved'), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
