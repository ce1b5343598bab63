import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import type { TokenValidator } from '../identity/types.js';
import type { Authorizer } from '../policy/types.js';
import type { ImageCatalog } from './types.js';

export interface ImageService {
  catalog: ImageCatalog;
  /** Fastify plugin serving Glance v2 under /image. */
  plugin: (app: FastifyInstance) => Promise<void>;
}

export interface ImageDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
  tokens: TokenValidator;
  policy: Authorizer;
}

/** PLACEHOLDER until Glance lands. */
export function createImageService(_deps: ImageDeps): Promise<ImageService> {
  return Promise.resolve({
    catalog: { get: () => Promise.resolve(null) },
    plugin: async () => {},
  });
}
