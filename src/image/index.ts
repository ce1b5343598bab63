import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import type { TokenValidator } from '../identity/types.js';
import type { Authorizer } from '../policy/types.js';
import { SYSTEM_CALLER, toRecord } from './model.js';
import { imageRoutes } from './routes.js';
import { seedImages } from './seed.js';
import { GlanceService } from './service.js';
import { FileImageStore, MemoryImageStore, type ImageStore } from './store.js';
import type { ImageCatalog, ImageRecord, NewImage } from './types.js';

export { CIRROS_IMAGE_ID } from './seed.js';
export type { ImageStore } from './store.js';

export interface ImageService {
  catalog: ImageCatalog;
  /** Fastify plugin serving Glance v2 under /image. */
  plugin: (app: FastifyInstance) => Promise<void>;
  /**
   * Registers an image on behalf of another service (a server snapshot),
   * status `queued`, no policy checks. Default visibility `private`.
   */
  createImage(spec: NewImage): Promise<ImageRecord>;
  /** Stores the data of a `queued` image and makes it `active` (size, checksum, hashes computed). */
  uploadImage(id: string, data: AsyncIterable<Uint8Array> | Buffer): Promise<ImageRecord>;
  /** Sets a status without checks (e.g. `killed` when a snapshot fails). False if the image is gone. */
  setStatus(id: string, status: string): Promise<boolean>;
  /** Deletes an image and its data, protected or not. No-op (false) when it does not exist. */
  delete(id: string): Promise<boolean>;
  /** Any live image, without visibility checks. */
  getImage(id: string): Promise<ImageRecord | null>;
  /** The image's bytes, or null when it has none. */
  readImage(id: string): Promise<Readable | null>;
  /** Where image bytes are kept. */
  store: ImageStore;
}

export interface ImageDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
  tokens: TokenValidator;
  policy: Authorizer;
  /**
   * Where image data lives: 'file' (under <data_dir>/images), 'memory', or a
   * store. Default: memory when the database is in memory (tests), else file.
   */
  imageStore?: 'file' | 'memory' | ImageStore;
  /** Largest accepted upload; default 10 GiB. */
  maxImageBytes?: number;
}

export const DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 ** 3;

/** True for an in-memory SQLite database (whose main file name is empty). */
async function databaseInMemory(db: Db): Promise<boolean> {
  try {
    // SQLite only; other dialects reject the pragma and count as on-disk.
    const res = await sql<{ name: string; file: string | null }>`PRAGMA database_list`.execute(db);
    const main = res.rows.find((r) => r.name === 'main');
    return main !== undefined && (main.file === null || main.file === '');
  } catch {
    return false;
  }
}

async function chooseStore(deps: ImageDeps): Promise<ImageStore> {
  const opt = deps.imageStore;
  if (opt !== undefined && typeof opt === 'object') return opt;
  const kind = opt ?? ((await databaseInMemory(deps.db)) ? 'memory' : 'file');
  return kind === 'memory' ? new MemoryImageStore() : new FileImageStore(join(deps.config.data_dir, 'images'));
}

/** The image service (Glance v2 subset): API plugin, catalog for compute, seeding. */
export async function createImageService(deps: ImageDeps): Promise<ImageService> {
  const store = await chooseStore(deps);
  const maxImageBytes = deps.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  const glance = new GlanceService({ db: deps.db, clock: deps.clock, log: deps.log, store, maxImageBytes });
  await glance.recoverInterrupted();
  await seedImages(glance, deps.log);

  const record = async (id: string): Promise<ImageRecord> => {
    const img = await glance.repo.full(id);
    if (!img) throw new Error(`image ${id} vanished`);
    return toRecord(img);
  };

  return {
    store,
    catalog: {
      async get(id, projectId, isAdmin) {
        const img = await glance.repo.full(id);
        if (!img) return null;
        const caller = { projectId, isAdmin, member: true, reader: true };
        return (await glance.canSee(img.row, caller)) ? toRecord(img) : null;
      },
    },
    plugin: imageRoutes({ glance, tokens: deps.tokens, maxImageBytes }),
    async createImage(spec) {
      const img = await glance.register(spec);
      return toRecord(img);
    },
    async uploadImage(id, data) {
      const source: AsyncIterable<Uint8Array> = Buffer.isBuffer(data) ? (async function* one() { yield data; })() : data;
      await glance.upload(SYSTEM_CALLER, id, source, true);
      return record(id);
    },
    setStatus: (id, status) => glance.setStatus(id, status),
    async delete(id) {
      if (!(await glance.repo.row(id))) return false;
      await glance.delete(SYSTEM_CALLER, id, true);
      return true;
    },
    async getImage(id) {
      const img = await glance.repo.full(id);
      return img ? toRecord(img) : null;
    },
    async readImage(id) {
      const row = await glance.repo.row(id);
      if (!row || row.size === null || !(await store.has(id))) return null;
      return store.read(id);
    },
  };
}
