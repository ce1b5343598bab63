import type { Kysely, Migration } from 'kysely';

const COLUMNS = ['memory_total', 'memory_processed', 'memory_remaining', 'disk_total', 'disk_processed', 'disk_remaining'] as const;

/** Live-migration progress on the migration record (bytes), as Nova keeps it. */
export const m0010MigrationProgress: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const c of COLUMNS) {
      await db.schema.alterTable('migrations').addColumn(c, 'bigint').execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const c of COLUMNS) {
      await db.schema.alterTable('migrations').dropColumn(c).execute();
    }
  },
};
