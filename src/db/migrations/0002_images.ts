import type { Kysely, Migration } from 'kysely';

/** Tables for images. */
export const m0002Images: Migration = {
  async up(_db: Kysely<unknown>): Promise<void> {},
  async down(_db: Kysely<unknown>): Promise<void> {},
};
