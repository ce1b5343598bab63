import type { Kysely, Migration } from 'kysely';

/** Flavors (with extra specs and access lists), keypairs and quota overrides. */
export const m0003ComputeResources: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('flavors')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('flavorid', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('vcpus', 'integer', (c) => c.notNull())
      .addColumn('memory_mb', 'integer', (c) => c.notNull())
      .addColumn('root_gb', 'integer', (c) => c.notNull())
      .addColumn('ephemeral_gb', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('swap', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('rxtx_factor', 'real', (c) => c.notNull().defaultTo(1))
      .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('description', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema
      .createTable('flavor_extra_specs')
      .addColumn('flavorid', 'varchar(255)', (c) => c.notNull())
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('flavor_extra_specs_pk', ['flavorid', 'key'])
      .execute();
    await db.schema
      .createTable('flavor_projects')
      .addColumn('flavorid', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('flavor_projects_pk', ['flavorid', 'project_id'])
      .execute();
    await db.schema
      .createTable('keypairs')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('fingerprint', 'varchar(255)', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addUniqueConstraint('keypairs_user_name_uq', ['user_id', 'name'])
      .execute();
    await db.schema
      .createTable('quotas')
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('resource', 'varchar(255)', (c) => c.notNull())
      .addColumn('hard_limit', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('quotas_pk', ['project_id', 'user_id', 'resource'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['quotas', 'keypairs', 'flavor_projects', 'flavor_extra_specs', 'flavors']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
