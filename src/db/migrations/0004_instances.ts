import type { Kysely, Migration } from 'kysely';

/** Servers, their metadata, tags and faults, and the built-in network model. */
export const m0004Instances: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('instances')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('display_description', 'text')
      .addColumn('hostname', 'varchar(255)', (c) => c.notNull())
      .addColumn('image_ref', 'varchar(255)', (c) => c.notNull())
      .addColumn('flavor', 'text', (c) => c.notNull())
      .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('vcpus', 'integer', (c) => c.notNull())
      .addColumn('memory_mb', 'integer', (c) => c.notNull())
      .addColumn('root_gb', 'integer', (c) => c.notNull())
      .addColumn('ephemeral_gb', 'integer', (c) => c.notNull())
      .addColumn('vm_state', 'varchar(32)', (c) => c.notNull())
      .addColumn('task_state', 'varchar(64)')
      .addColumn('power_state', 'integer', (c) => c.notNull())
      .addColumn('host', 'varchar(255)')
      .addColumn('node', 'varchar(255)')
      .addColumn('availability_zone', 'varchar(255)')
      .addColumn('requested_az', 'varchar(255)')
      .addColumn('launched_at', 'varchar(32)')
      .addColumn('terminated_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('deleted_at', 'varchar(32)')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('rev', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('key_name', 'varchar(255)')
      .addColumn('key_data', 'text')
      .addColumn('user_data', 'text')
      .addColumn('config_drive', 'varchar(255)', (c) => c.notNull())
      .addColumn('access_ip_v4', 'varchar(64)')
      .addColumn('access_ip_v6', 'varchar(64)')
      .addColumn('disk_config', 'varchar(16)', (c) => c.notNull())
      .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('reservation_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('launch_index', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('root_device_name', 'varchar(255)')
      .addColumn('kernel_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('ramdisk_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
      .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_by', 'varchar(16)')
      .addColumn('locked_reason', 'varchar(255)')
      .addColumn('security_groups', 'text', (c) => c.notNull())
      .addColumn('scheduler_hints', 'text', (c) => c.notNull())
      .addColumn('block_device_mapping', 'text', (c) => c.notNull())
      .addColumn('requested_networks', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('instances_project_idx').on('instances').columns(['project_id', 'deleted']).execute();
    // Covers the scheduler's usage sum per host and the quota sums per project.
    await db.schema.createIndex('instances_host_idx').on('instances').columns(['deleted', 'host', 'vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb']).execute();
    await db.schema.createIndex('instances_created_idx').on('instances').columns(['created_at', 'id']).execute();
    // The default listing: a project's live servers, newest first.
    await db.schema.createIndex('instances_list_idx').on('instances').columns(['project_id', 'deleted', 'created_at', 'id']).execute();

    await db.schema
      .createTable('instance_metadata')
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('instance_metadata_pk', ['instance_uuid', 'key'])
      .execute();
    await db.schema
      .createTable('instance_tags')
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('tag', 'varchar(80)', (c) => c.notNull())
      .addPrimaryKeyConstraint('instance_tags_pk', ['instance_uuid', 'tag'])
      .execute();
    await db.schema.createIndex('instance_tags_tag_idx').on('instance_tags').column('tag').execute();
    await db.schema
      .createTable('instance_faults')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('code', 'integer', (c) => c.notNull())
      .addColumn('message', 'varchar(255)', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('instance_faults_uuid_idx').on('instance_faults').column('instance_uuid').execute();

    await db.schema
      .createTable('networks')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)')
      .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
      .addColumn('cidr_v6', 'varchar(64)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('ports')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('instance_uuid', 'varchar(36)')
      .addColumn('mac_address', 'varchar(32)', (c) => c.notNull().unique())
      .addColumn('fixed_ip_v4', 'varchar(64)')
      .addColumn('fixed_ip_v6', 'varchar(64)')
      .addColumn('tag', 'varchar(60)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ports_instance_idx').on('ports').column('instance_uuid').execute();
    await db.schema.createIndex('ports_net_v4_idx').on('ports').columns(['network_id', 'fixed_ip_v4']).unique().execute();
    await db.schema
      .createTable('security_groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['security_groups', 'ports', 'networks', 'instance_faults', 'instance_tags', 'instance_metadata', 'instances']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
