import type { Kysely, Migration } from 'kysely';

/**
 * The services of the control plane (Nova's `services` table): one row per
 * compute host plus the conductor and the scheduler, with the operator's
 * switches (disabled, forced_down) and the last heartbeat.
 */
export const m0007ComputeServices: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('compute_services')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('binary', 'varchar(255)', (c) => c.notNull())
      .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_reason', 'varchar(255)')
      .addColumn('forced_down', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_seen_up', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('compute_services_host_binary_idx').on('compute_services').columns(['host', 'binary']).unique().execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('compute_services').execute();
  },
};
