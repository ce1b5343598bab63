import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { emptyQcow2 } from './format.js';
import type { GlanceService } from './service.js';

/** A stable UUID (version 5 layout) for a seeded object, so restarts find it again. */
export function seededUuid(name: string): string {
  const h = createHash('sha1').update(`stratus:seed:${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const CIRROS_IMAGE_ID = seededUuid('image:cirros');
/** The virtual size of the seeded disk: 112 MiB, as a CirrOS 0.6 disk image. */
export const CIRROS_VIRTUAL_SIZE = 112 * 1024 * 1024;

/**
 * Seeds the public `cirros` image once: a small, valid, empty qcow2 disk.
 * An image deleted by an operator stays deleted; data lost from the store is
 * written again.
 */
export async function seedImages(glance: GlanceService, log: Logger): Promise<void> {
  const existing = await glance.repo.row(CIRROS_IMAGE_ID);
  const bytes = () => Readable.from([emptyQcow2(CIRROS_VIRTUAL_SIZE)]);
  if (existing) {
    if (existing.status === 'active' && !(await glance.store.has(CIRROS_IMAGE_ID))) {
      await glance.store.write(CIRROS_IMAGE_ID, bytes(), Number.MAX_SAFE_INTEGER);
      log.info({ imageId: CIRROS_IMAGE_ID }, 'restored the data of the seeded cirros image');
    }
    return;
  }
  if (await glance.repo.idTaken(CIRROS_IMAGE_ID)) return;
  await glance.register({
    id: CIRROS_IMAGE_ID,
    name: 'cirros',
    owner: null,
    visibility: 'public',
    disk_format: 'qcow2',
    container_format: 'bare',
    min_disk: 0,
    min_ram: 0,
  });
  await glance.upload({ projectId: null, isAdmin: true, member: true, reader: true }, CIRROS_IMAGE_ID, bytes(), true);
  log.info({ imageId: CIRROS_IMAGE_ID }, 'seeded the cirros image');
}
