import type { Kysely, Migration } from 'kysely';

/** Tables for identity. */
export const m0001Identity: Migration = {
  async up(_db: Kysely<unknown>): Promise<void> {},
  async down(_db: Kysely<unknown>): Promise<void> {},
};
