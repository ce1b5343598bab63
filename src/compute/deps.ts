import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import type { Authorizer } from '../policy/types.js';
import type { ImageCatalog } from '../image/types.js';
import type { ImageService } from '../image/index.js';
import type { Bus } from '../bus/types.js';
import type { NetworkModel } from '../network/model.js';
import type { RenderCache } from './servers/render-cache.js';

/** What every compute API handler may use. */
export interface ComputeDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
  policy: Authorizer;
  images: ImageCatalog;
  /** The image service itself, for images compute registers and uploads (snapshots, backups, shelve). */
  imageService: ImageService;
  bus: Bus;
  network: NetworkModel;
  /** Rendered server bodies by (uuid, rev, view variant). */
  renderCache: RenderCache;
}
