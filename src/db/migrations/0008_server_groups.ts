import type { Kysely, Migration } from 'kysely';

/** Server groups (Nova's instance_groups with policy and rules) and their members. */
export const m0008ServerGroups: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('server_groups')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('policy', 'varchar(255)', (c) => c.notNull())
      .addColumn('rules', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('server_groups_project_idx').on('server_groups').column('project_id').execute();
    await db.schema
      .createTable('server_group_members')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('group_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('server_group_members_group_instance_idx').on('server_group_members').columns(['group_uuid', 'instance_uuid']).unique().execute();
    await db.schema.createIndex('server_group_members_instance_idx').on('server_group_members').column('instance_uuid').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('server_group_members').execute();
    await db.schema.dropTable('server_groups').execute();
  },
};
