import type { Kysely, Migration } from 'kysely';

/** Host aggregates, their hosts and their metadata (Nova deletes these rows outright: no soft delete). */
export const m0011Aggregates: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('aggregates')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema
      .createTable('aggregate_hosts')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('aggregate_id', 'integer', (c) => c.notNull().references('aggregates.id').onDelete('cascade'))
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('aggregate_hosts_aggregate_host_idx').on('aggregate_hosts').columns(['aggregate_id', 'host']).unique().execute();
    await db.schema.createIndex('aggregate_hosts_host_idx').on('aggregate_hosts').column('host').execute();
    await db.schema
      .createTable('aggregate_metadata')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('aggregate_id', 'integer', (c) => c.notNull().references('aggregates.id').onDelete('cascade'))
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('aggregate_metadata_aggregate_key_idx').on('aggregate_metadata').columns(['aggregate_id', 'key']).unique().execute();
    await db.schema.createIndex('aggregate_metadata_key_idx').on('aggregate_metadata').column('key').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('aggregate_metadata').execute();
    await db.schema.dropTable('aggregate_hosts').execute();
    await db.schema.dropTable('aggregates').execute();
  },
};
