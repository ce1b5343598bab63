import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { GlanceError } from './errors.js';

/** What writing image data produced. */
export interface StoredData {
  size: number;
  /** md5, hex (Glance's legacy `checksum`). */
  checksum: string;
  /** sha512, hex (`os_hash_value` with `os_hash_algo` sha512). */
  hash: string;
  /** The first bytes of the data, for format inspection. */
  head: Buffer;
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where image bytes live: files under <data_dir>/images, or memory for tests. */
export interface ImageStore {
  readonly kind: 'file' | 'memory';
  /**
   * Streams `data` into the slot `key`, hashing it on the way. The slot is
   * replaced only when the whole stream arrived; more than `maxBytes` is a 413.
   */
  write(key: string, data: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredData>;
  read(key: string, range?: ByteRange): Readable;
  has(key: string): Promise<boolean>;
  /** Moves a slot to another key (staging -> image). */
  move(from: string, to: string): Promise<void>;
  delete(key: string): Promise<void>;
}

const HEAD_BYTES = 512;

class Hasher {
  private md5 = createHash('md5');
  private sha = createHash('sha512');
  private heads: Buffer[] = [];
  private headLen = 0;
  size = 0;
  constructor(private readonly maxBytes: number) {}
  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      throw new GlanceError(413, `Image exceeds the maximum allowed size of ${this.maxBytes} bytes.`);
    }
    this.md5.update(chunk);
    this.sha.update(chunk);
    if (this.headLen < HEAD_BYTES) {
      const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - this.headLen));
      this.heads.push(part);
      this.headLen += part.length;
    }
  }
  result(): StoredData {
    return { size: this.size, checksum: this.md5.digest('hex'), hash: this.sha.digest('hex'), head: Buffer.concat(this.heads) };
  }
}

function toBuffer(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError('image data must be bytes');
}

export class MemoryImageStore implements ImageStore {
  readonly kind = 'memory' as const;
  private readonly blobs = new Map<string, Buffer>();

  async write(key: string, data: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredData> {
    const h = new Hasher(maxBytes);
    const parts: Buffer[] = [];
    for await (const raw of data) {
      const chunk = toBuffer(raw);
      h.update(chunk);
      parts.push(Buffer.from(chunk));
    }
    this.blobs.set(key, Buffer.concat(parts));
    return h.result();
  }

  read(key: string, range?: ByteRange): Readable {
    const blob = this.blobs.get(key) ?? Buffer.alloc(0);
    return Readable.from(range ? [blob.subarray(range.start, range.end + 1)] : [blob]);
  }

  has(key: string): Promise<boolean> {
    return Promise.resolve(this.blobs.has(key));
  }

  move(from: string, to: string): Promise<void> {
    const blob = this.blobs.get(from);
    if (blob !== undefined) {
      this.blobs.set(to, blob);
      this.blobs.delete(from);
    }
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.blobs.delete(key);
    return Promise.resolve();
  }
}

export class FileImageStore implements ImageStore {
  readonly kind = 'file' as const;
  constructor(readonly dir: string) {}

  private path(key: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(key) || key.startsWith('.')) throw new Error(`invalid image store key ${key}`);
    return join(this.dir, key);
  }

  async write(key: string, data: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredData> {
    const target = this.path(key);
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${key}.${randomUUID()}.part`);
    // Open before streaming: a write stream opens its file asynchronously, and a failure that
    // came before the open finished would otherwise remove the file before it exists.
    const out = (await open(tmp, 'wx')).createWriteStream();
    const h = new Hasher(maxBytes);
    try {
      for await (const raw of data) {
        const chunk = toBuffer(raw);
        h.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
          const onDrain = () => { out.off('error', onError); resolve(); };
          const onError = (e: Error) => { out.off('drain', onDrain); reject(e); };
          out.once('drain', onDrain);
          out.once('error', onError);
        });
      }
      out.end();
      await finished(out);
      await rename(tmp, target);
      return h.result();
    } catch (e) {
      out.destroy();
      await finished(out).catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
  }

  read(key: string, range?: ByteRange): Readable {
    return createReadStream(this.path(key), range ? { start: range.start, end: range.end } : {});
  }

  async has(key: string): Promise<boolean> {
    try {
      await access(this.path(key));
      return true;
    } catch {
      return false;
    }
  }

  async move(from: string, to: string): Promise<void> {
    await rename(this.path(from), this.path(to));
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
