import type { Db } from '../db/index.js';
import { dict, type ImageFull } from './model.js';
import type { ImageMemberRow, ImageRow } from './tables.js';

/** Database access for images; no policy here. */
export class ImageRepo {
  constructor(private readonly db: Db) {}

  /** A live (not deleted) image row. */
  async row(id: string): Promise<ImageRow | undefined> {
    if (id.length > 36) return undefined;
    return this.db.selectFrom('images').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst();
  }

  /** Whether the id was ever used, deleted images included. */
  async idTaken(id: string): Promise<boolean> {
    const r = await this.db.selectFrom('images').select('id').where('id', '=', id).executeTakeFirst();
    return r !== undefined;
  }

  async full(id: string): Promise<ImageFull | undefined> {
    const row = await this.row(id);
    if (!row) return undefined;
    const [withExtras] = await this.attach([row]);
    return withExtras;
  }

  /** Loads properties and tags for rows, keeping their order. */
  async attach(rows: ImageRow[]): Promise<ImageFull[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const props = new Map<string, Record<string, string>>();
    const tags = new Map<string, string[]>();
    // SQLite limits bound parameters; chunk the id lists.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const pr = await this.db.selectFrom('image_properties').selectAll().where('image_id', 'in', chunk).orderBy('name').execute();
      for (const p of pr) {
        let m = props.get(p.image_id);
        if (!m) props.set(p.image_id, (m = dict<string>()));
        m[p.name] = p.value;
      }
      const tr = await this.db.selectFrom('image_tags').selectAll().where('image_id', 'in', chunk).orderBy('value').execute();
      for (const t of tr) {
        let l = tags.get(t.image_id);
        if (!l) tags.set(t.image_id, (l = []));
        l.push(t.value);
      }
    }
    return rows.map((row) => ({ row, properties: props.get(row.id) ?? dict<string>(), tags: tags.get(row.id) ?? [] }));
  }

  async insert(img: ImageFull): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('images').values(img.row).execute();
      const props = Object.entries(img.properties).map(([name, value]) => ({ image_id: img.row.id, name, value }));
      if (props.length > 0) await trx.insertInto('image_properties').values(props).execute();
      const tags = img.tags.map((value) => ({ image_id: img.row.id, value }));
      if (tags.length > 0) await trx.insertInto('image_tags').values(tags).execute();
    });
  }

  /** Replaces an image's row, properties and tags (a PATCH). */
  async save(img: ImageFull): Promise<void> {
    const { id, ...rest } = img.row;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('images').set(rest).where('id', '=', id).execute();
      await trx.deleteFrom('image_properties').where('image_id', '=', id).execute();
      const props = Object.entries(img.properties).map(([name, value]) => ({ image_id: id, name, value }));
      if (props.length > 0) await trx.insertInto('image_properties').values(props).execute();
      await trx.deleteFrom('image_tags').where('image_id', '=', id).execute();
      const tags = img.tags.map((value) => ({ image_id: id, value }));
      if (tags.length > 0) await trx.insertInto('image_tags').values(tags).execute();
    });
  }

  /** Updates columns of a live image; with `fromStatus`, only while it has that status. True when a row changed. */
  async update(id: string, values: Partial<Omit<ImageRow, 'id'>>, fromStatus?: string | string[]): Promise<boolean> {
    let q = this.db.updateTable('images').set(values).where('id', '=', id).where('deleted', '=', 0);
    if (fromStatus !== undefined) q = q.where('status', 'in', Array.isArray(fromStatus) ? fromStatus : [fromStatus]);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async addTag(id: string, tag: string): Promise<void> {
    await this.db.insertInto('image_tags').values({ image_id: id, value: tag }).onConflict((oc) => oc.doNothing()).execute();
  }

  async removeTag(id: string, tag: string): Promise<boolean> {
    const res = await this.db.deleteFrom('image_tags').where('image_id', '=', id).where('value', '=', tag).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async isMember(imageId: string, project: string | null): Promise<boolean> {
    if (project === null) return false;
    const r = await this.db.selectFrom('image_members').select('member').where('image_id', '=', imageId).where('member', '=', project).executeTakeFirst();
    return r !== undefined;
  }

  members(imageId: string): Promise<ImageMemberRow[]> {
    return this.db.selectFrom('image_members').selectAll().where('image_id', '=', imageId).orderBy('created_at').orderBy('member').execute();
  }

  member(imageId: string, member: string): Promise<ImageMemberRow | undefined> {
    return this.db.selectFrom('image_members').selectAll().where('image_id', '=', imageId).where('member', '=', member).executeTakeFirst();
  }

  async addMember(m: ImageMemberRow): Promise<void> {
    await this.db.insertInto('image_members').values(m).execute();
  }

  async updateMember(imageId: string, member: string, status: string, at: string): Promise<void> {
    await this.db.updateTable('image_members').set({ status, updated_at: at }).where('image_id', '=', imageId).where('member', '=', member).execute();
  }

  async removeMember(imageId: string, member: string): Promise<void> {
    await this.db.deleteFrom('image_members').where('image_id', '=', imageId).where('member', '=', member).execute();
  }

  /** Soft-deletes an image and forgets its members. */
  async markDeleted(id: string, at: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('images')
        .set({ status: 'deleted', deleted: 1, deleted_at: at, updated_at: at })
        .where('id', '=', id)
        .where('deleted', '=', 0)
        .executeTakeFirst();
      await trx.deleteFrom('image_members').where('image_id', '=', id).execute();
      return Number(res.numUpdatedRows) > 0;
    });
  }
}
