import type { Kysely, Migration } from 'kysely';

/** Images (Glance v2): the images, their extra properties, tags and members. */
export const m0002Images: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('images')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)')
      .addColumn('status', 'varchar(30)', (c) => c.notNull())
      .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('os_hidden', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('checksum', 'varchar(32)')
      .addColumn('os_hash_algo', 'varchar(64)')
      .addColumn('os_hash_value', 'varchar(128)')
      .addColumn('owner', 'varchar(255)')
      .addColumn('size', 'bigint')
      .addColumn('virtual_size', 'bigint')
      .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disk_format', 'varchar(20)')
      .addColumn('container_format', 'varchar(20)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('deleted_at', 'varchar(32)')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('images_owner_idx').on('images').columns(['owner', 'deleted']).execute();
    await db.schema.createIndex('images_visibility_idx').on('images').columns(['visibility', 'deleted']).execute();
    await db.schema
      .createTable('image_properties')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_properties_pk', ['image_id', 'name'])
      .execute();
    await db.schema
      .createTable('image_tags')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_tags_pk', ['image_id', 'value'])
      .execute();
    await db.schema.createIndex('image_tags_value_idx').on('image_tags').column('value').execute();
    await db.schema
      .createTable('image_members')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('member', 'varchar(255)', (c) => c.notNull())
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_members_pk', ['image_id', 'member'])
      .execute();
    await db.schema.createIndex('image_members_member_idx').on('image_members').columns(['member', 'status']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['image_members', 'image_tags', 'image_properties', 'images']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
