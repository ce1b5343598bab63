import type { Kysely, Migration } from 'kysely';

/**
 * Console authorisation tokens (remote consoles, os-console-auth-tokens),
 * plus what the built-in network model needs for floating IPs and extra
 * fixed IPs: an `external` flag on networks (the floating IP pool), the
 * floating IPs themselves, and fixed IPs added to a port after boot
 * (addFixedIp).
 */
export const m0006ConsoleTokens: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('console_auth_tokens')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('token_hash', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('console_type', 'varchar(255)', (c) => c.notNull())
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('tls_port', 'integer')
      .addColumn('internal_access_path', 'varchar(255)')
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('access_url_base', 'varchar(255)')
      .addColumn('expires', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('console_auth_tokens_instance_idx').on('console_auth_tokens').column('instance_uuid').execute();

    await db.schema.alterTable('networks').addColumn('external', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createTable('floating_ips')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('address', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('port_id', 'varchar(36)')
      .addColumn('fixed_ip_address', 'varchar(64)')
      .addColumn('instance_uuid', 'varchar(36)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('floating_ips_project_idx').on('floating_ips').column('project_id').execute();
    await db.schema.createIndex('floating_ips_instance_idx').on('floating_ips').column('instance_uuid').execute();
    await db.schema
      .createTable('port_fixed_ips')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('port_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('address', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('port_fixed_ips_addr_idx').on('port_fixed_ips').columns(['network_id', 'address']).unique().execute();
    await db.schema.createIndex('port_fixed_ips_instance_idx').on('port_fixed_ips').column('instance_uuid').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('port_fixed_ips').execute();
    await db.schema.dropTable('floating_ips').execute();
    await db.schema.alterTable('networks').dropColumn('external').execute();
    await db.schema.dropTable('console_auth_tokens').execute();
  },
};
