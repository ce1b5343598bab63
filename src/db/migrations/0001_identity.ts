import type { Kysely, Migration } from 'kysely';

/** Domains, projects, users, roles (with implications), role assignments and tokens. */
export const m0001Identity: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('domains')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('projects')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addUniqueConstraint('projects_domain_name_uq', ['domain_id', 'name'])
      .execute();
    await db.schema
      .createTable('users')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('password_hash', 'varchar(255)')
      .addColumn('default_project_id', 'varchar(64)')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addUniqueConstraint('users_domain_name_uq', ['domain_id', 'name'])
      .execute();
    await db.schema
      .createTable('roles')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull().defaultTo(''))
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addUniqueConstraint('roles_domain_name_uq', ['domain_id', 'name'])
      .execute();
    await db.schema
      .createTable('implied_roles')
      .addColumn('prior_role_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('implied_role_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('implied_roles_pk', ['prior_role_id', 'implied_role_id'])
      .execute();
    await db.schema
      .createTable('role_assignments')
      .addColumn('target_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('target_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('actor_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('role_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('role_assignments_pk', ['target_type', 'target_id', 'actor_id', 'role_id'])
      .execute();
    await db.schema.createIndex('role_assignments_actor_idx').on('role_assignments').columns(['actor_id', 'target_id']).execute();
    await db.schema
      .createTable('tokens')
      .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)')
      .addColumn('domain_id', 'varchar(64)')
      .addColumn('methods', 'varchar(255)', (c) => c.notNull())
      .addColumn('audit_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('audit_chain_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('issued_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('tokens_user_idx').on('tokens').column('user_id').execute();
    await db.schema.createIndex('tokens_project_idx').on('tokens').column('project_id').execute();
    await db.schema.createIndex('tokens_expires_idx').on('tokens').column('expires_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['tokens', 'role_assignments', 'implied_roles', 'roles', 'users', 'projects', 'domains']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
