import type { Kysely, Migration } from 'kysely';

/** Nova's `migrations` table: resizes and migrations of servers between hosts. */
export const m0009Migrations: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('migrations')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('source_compute', 'varchar(255)')
      .addColumn('dest_compute', 'varchar(255)')
      .addColumn('source_node', 'varchar(255)')
      .addColumn('dest_node', 'varchar(255)')
      .addColumn('dest_host', 'varchar(255)')
      .addColumn('old_instance_type_id', 'varchar(255)')
      .addColumn('new_instance_type_id', 'varchar(255)')
      .addColumn('status', 'varchar(255)', (c) => c.notNull())
      .addColumn('migration_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('old_flavor', 'text', (c) => c.notNull())
      .addColumn('new_flavor', 'text', (c) => c.notNull())
      .addColumn('old_vm_state', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)')
      .addColumn('user_id', 'varchar(255)')
      .addColumn('cross_cell_move', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .addColumn('deleted_at', 'varchar(32)')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('migrations_instance_uuid_idx').on('migrations').column('instance_uuid').execute();
    await db.schema.createIndex('migrations_status_idx').on('migrations').columns(['source_compute', 'status']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('migrations').execute();
  },
};
