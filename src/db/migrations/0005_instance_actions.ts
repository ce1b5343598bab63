import type { Kysely, Migration } from 'kysely';

/** Instance actions and their events (os-instance-actions). */
export const m0005InstanceActions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('instance_actions')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('action', 'varchar(255)', (c) => c.notNull())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
      .addColumn('finish_time', 'varchar(32)')
      .addColumn('message', 'varchar(255)')
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('instance_actions_uuid_idx').on('instance_actions').columns(['instance_uuid', 'updated_at']).execute();
    await db.schema.createIndex('instance_actions_request_idx').on('instance_actions').column('request_id').execute();
    await db.schema
      .createTable('instance_actions_events')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('action_id', 'integer', (c) => c.notNull())
      .addColumn('event', 'varchar(255)', (c) => c.notNull())
      .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
      .addColumn('finish_time', 'varchar(32)')
      .addColumn('result', 'varchar(255)')
      .addColumn('traceback', 'text')
      .addColumn('host', 'varchar(255)')
      .addColumn('details', 'text')
      .execute();
    await db.schema.createIndex('instance_actions_events_action_idx').on('instance_actions_events').column('action_id').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('instance_actions_events').execute();
    await db.schema.dropTable('instance_actions').execute();
  },
};
