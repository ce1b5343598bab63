import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import { isoMicro } from '../lib/time.js';
import { badRequest, conflict, forbidden, GlanceError, imageNotFound, notAuthorized, notFound, readOnly, reserved } from './errors.js';
import { virtualSize } from './format.js';
import {
  DISALLOWED_ON_CREATE,
  MAX_INT32,
  MEMBER_QUOTA,
  MUTABLE_BASE,
  ownsForWrite,
  PROPERTY_QUOTA,
  READONLY,
  RESERVED,
  RESERVED_NAMESPACE,
  TAG_QUOTA,
  dict,
  visibleTo,
  type Caller,
  type ImageFull,
} from './model.js';
import type { Change } from './patch.js';
import { compareRows, type ListParams } from './query.js';
import { ImageRepo } from './repo.js';
import { MEMBER_STATUSES, validateImageDoc } from './schemas.js';
import type { ByteRange, ImageStore } from './store.js';
import type { ImageMemberRow, ImageRow } from './tables.js';
import type { NewImage } from './types.js';

export interface GlanceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  store: ImageStore;
  /** Largest accepted image upload, in bytes. */
  maxImageBytes: number;
}

/** The result of a download request. */
export type Download =
  | { status: 204 }
  | { status: 200 | 206; stream: Readable; length: number; checksum: string | null; contentRange?: string }
  | { status: 416; contentRange: string };

const stagingKey = (id: string) => `${id}.staging`;

const BASE_ON_CREATE = new Set(['id', 'name', 'visibility', 'protected', 'os_hidden', 'owner', 'min_disk', 'min_ram', 'disk_format', 'container_format', 'tags']);
/** Reserved as extra property names by the image factory. */
const RESERVED_EXTRA = new Set(['owner', 'locations', 'deleted', 'deleted_at', 'direct_url', 'self', 'file', 'schema']);

function checkMinimum(param: 'min_ram' | 'min_disk', value: number): void {
  if (value < 0) throw badRequest(`Invalid value '${value}' for parameter '${param}': Cannot be a negative value`);
  if (value > MAX_INT32) throw badRequest(`Invalid value '${value}' for parameter '${param}': Value is too large`);
}

function checkQuotas(properties: Record<string, string>, tags: string[]): void {
  const nProps = Object.keys(properties).length;
  if (nProps > PROPERTY_QUOTA) {
    throw new GlanceError(
      413,
      `The limit has been exceeded on the number of allowed image properties. Attempted: ${nProps}, Maximum: ${PROPERTY_QUOTA}`,
    );
  }
  if (tags.length > TAG_QUOTA) {
    throw new GlanceError(413, `The limit has been exceeded on the number of allowed image tags. Attempted: ${tags.length}, Maximum: ${TAG_QUOTA}`);
  }
}

/** Parses a single `Range: bytes=...` against a size; undefined means "send it all". */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return 'unsatisfiable';
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

/** Glance v2's image operations, with its policy defaults applied as plain checks. */
export class GlanceService {
  readonly repo: ImageRepo;
  private readonly log: Logger;

  constructor(private readonly deps: GlanceDeps) {
    this.repo = new ImageRepo(deps.db);
    this.log = deps.log;
  }

  get store(): ImageStore {
    return this.deps.store;
  }

  private now(): string {
    return isoMicro(this.deps.clock.now());
  }

  private async isMemberOf(row: ImageRow, caller: Caller): Promise<boolean> {
    if (caller.isAdmin || row.visibility !== 'shared' || caller.projectId === null || row.owner === caller.projectId) return false;
    return this.repo.isMember(row.id, caller.projectId);
  }

  /** Whether the caller may see this image (Glance's visibility plus the reader role). */
  async canSee(row: ImageRow, caller: Caller): Promise<boolean> {
    if (!caller.isAdmin && !caller.reader) return false;
    return visibleTo(row, caller, await this.isMemberOf(row, caller));
  }

  /** A live image the caller may see, or a 404 with `message`. */
  async lookup(id: string, caller: Caller, message?: string): Promise<ImageFull> {
    const img = await this.repo.full(id);
    if (!img || !(await this.canSee(img.row, caller))) throw message === undefined ? imageNotFound(id) : notFound(message);
    return img;
  }

  // ---- list ---------------------------------------------------------------

  async list(caller: Caller, p: ListParams): Promise<{ images: ImageFull[]; nextMarker?: string }> {
    const db = this.deps.db;
    const project = caller.projectId;
    let q = db.selectFrom('images').selectAll().where('deleted', '=', 0).where('status', '!=', 'killed');
    for (const f of p.columns) {
      if (f.kind === 'in') {
        const values = f.values;
        q = values.length === 0 ? q.where((eb) => eb.val(0), '=', 1) : q.where(f.column, 'in', values as never[]);
      } else {
        q = q.where(f.column, f.op, f.value as never);
      }
    }
    for (const tag of p.tags) {
      q = q.where((eb) =>
        eb.exists(eb.selectFrom('image_tags').select('image_tags.image_id').whereRef('image_tags.image_id', '=', 'images.id').where('image_tags.value', '=', tag)),
      );
    }
    for (const [name, value] of p.properties) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('image_properties')
            .select('image_properties.image_id')
            .whereRef('image_properties.image_id', '=', 'images.id')
            .where('image_properties.name', '=', name)
            .where('image_properties.value', '=', value),
        ),
      );
    }
    if (!caller.isAdmin) {
      if (!caller.reader) throw notAuthorized('get_images');
      q = q.where((eb) => {
        const any = [eb('images.visibility', '=', 'public'), eb('images.visibility', '=', 'community')];
        if (project !== null) {
          any.push(eb('images.owner', '=', project));
          let members = eb
            .selectFrom('image_members')
            .select('image_members.image_id')
            .whereRef('image_members.image_id', '=', 'images.id')
            .where('image_members.member', '=', project);
          if (p.memberStatus !== 'all') members = members.where('image_members.status', '=', p.memberStatus);
          any.push(eb.and([eb('images.visibility', '=', 'shared'), eb.exists(members)]));
        }
        return eb.or(any);
      });
    }
    if (p.visibility !== undefined) {
      if (p.visibility !== 'all') q = q.where('visibility', '=', p.visibility);
    } else if (project === null) {
      q = q.where('visibility', '!=', 'community');
    } else {
      q = q.where((eb) => eb.or([eb('owner', '=', project), eb('visibility', '!=', 'community')]));
    }

    let rows = await q.execute();
    rows.sort((a, b) => compareRows(a, b, p.sort));
    if (p.marker !== undefined) {
      const marker = await this.repo.row(p.marker);
      if (!marker) throw badRequest(`No image found with ID ${p.marker}`);
      if (!(await this.canSee(marker, caller))) throw forbidden(`Forbidding request, image ${p.marker} not visible`);
      rows = rows.filter((r) => compareRows(r, marker, p.sort) > 0);
    }
    const page = rows.slice(0, p.limit);
    const images = await this.repo.attach(page);
    const lastRow = page.at(-1);
    return rows.length > p.limit && lastRow ? { images, nextMarker: lastRow.id } : { images };
  }

  // ---- create / update / delete --------------------------------------------

  /** POST /v2/images. */
  async create(caller: Caller, body: unknown): Promise<ImageFull> {
    if (body === undefined) throw badRequest('Body expected in request.');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      const err = validateImageDoc(body as Record<string, unknown>);
      throw err ?? badRequest('Unexpected body type. Expected list/dict.');
    }
    const doc = body as Record<string, unknown>;
    for (const k of DISALLOWED_ON_CREATE) if (Object.hasOwn(doc, k)) throw readOnly(k);
    const invalid = validateImageDoc(doc);
    if (invalid) throw invalid;

    const base = dict<unknown>();
    const extras = dict<unknown>();
    for (const [k, v] of Object.entries(doc)) {
      if (BASE_ON_CREATE.has(k) || READONLY.has(k)) base[k] = v;
      else extras[k] = v;
    }
    for (const k of Object.keys(extras)) {
      if (k.length > 255) throw badRequest('Custom property should not be greater than 255 characters.');
      if (RESERVED.has(k) || k.startsWith(RESERVED_NAMESPACE)) throw reserved(k);
    }
    for (const k of Object.keys(base)) if (READONLY.has(k) && k !== 'id') throw readOnly(k);
    for (const k of Object.keys(extras)) if (RESERVED_EXTRA.has(k)) throw reserved(k);

    const owner = Object.hasOwn(base, 'owner') ? (base.owner as string | null) : caller.projectId;
    const visibility = (base.visibility as string | undefined) ?? 'shared';
    if (!(caller.isAdmin || (caller.member && caller.projectId !== null && owner === caller.projectId))) {
      if (owner !== caller.projectId) throw forbidden(`You are not permitted to create images owned by '${String(owner)}'`);
      throw notAuthorized('add_image');
    }
    if (Object.hasOwn(base, 'visibility')) this.checkVisibilityChange(caller, owner, visibility);

    const minRam = (base.min_ram as number | undefined) ?? 0;
    const minDisk = (base.min_disk as number | undefined) ?? 0;
    checkMinimum('min_ram', minRam);
    checkMinimum('min_disk', minDisk);

    const properties = dict<string>();
    for (const [k, v] of Object.entries(extras)) if (typeof v === 'string') properties[k] = v;
    const tags = [...new Set((base.tags as string[] | undefined) ?? [])].sort();
    checkQuotas(properties, tags);

    const id = (base.id as string | undefined) ?? randomUUID();
    if (await this.repo.idTaken(id)) throw conflict(`Image with identifier ${id} already exists!`);
    const now = this.now();
    const img: ImageFull = {
      row: {
        id,
        name: (base.name as string | null | undefined) ?? null,
        status: 'queued',
        visibility,
        protected: base.protected === true ? 1 : 0,
        os_hidden: base.os_hidden === true ? 1 : 0,
        checksum: null,
        os_hash_algo: null,
        os_hash_value: null,
        owner,
        size: null,
        virtual_size: null,
        min_disk: minDisk,
        min_ram: minRam,
        disk_format: (base.disk_format as string | null | undefined) ?? null,
        container_format: (base.container_format as string | null | undefined) ?? null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        deleted: 0,
      },
      properties,
      tags,
    };
    await this.repo.insert(img);
    return img;
  }

  /** publicize_image is admin-only; communitize_image needs the owner's member role. */
  private checkVisibilityChange(caller: Caller, owner: string | null, visibility: unknown): void {
    if (visibility === 'public' && !caller.isAdmin) throw notAuthorized('publicize_image');
    if (visibility === 'community' && !(caller.isAdmin || (caller.member && owner !== null && owner === caller.projectId))) {
      throw notAuthorized('communitize_image');
    }
  }

  /** PATCH /v2/images/{id}: applies parsed changes in order. */
  async update(caller: Caller, id: string, changes: Change[]): Promise<ImageFull> {
    const img = await this.lookup(id, caller);
    const row = { ...img.row };
    const properties = Object.assign(dict<string>(), img.properties);
    let tags = [...img.tags];
    const modify = (name: string, value?: unknown) => {
      if (name === 'visibility') this.checkVisibilityChange(caller, row.owner, value);
      if (!ownsForWrite(img.row, caller)) throw notAuthorized('modify_image');
    };
    const setBase = (name: string, value: unknown) => {
      switch (name) {
        case 'name':
          row.name = value as string | null;
          break;
        case 'visibility':
          row.visibility = value as string;
          break;
        case 'protected':
          row.protected = value === true ? 1 : 0;
          break;
        case 'os_hidden':
          row.os_hidden = value === true ? 1 : 0;
          break;
        case 'owner':
          row.owner = value as string | null;
          break;
        case 'min_ram':
        case 'min_disk':
          checkMinimum(name, value as number);
          row[name] = value as number;
          break;
        case 'disk_format':
        case 'container_format':
          if (row.status !== 'queued' && row.status !== 'importing') {
            throw forbidden(`Attribute ${name} can be only replaced for a queued image.`);
          }
          row[name] = value as string | null;
          break;
        case 'tags':
          tags = [...new Set(value as string[])];
          break;
        default:
          throw readOnly(name);
      }
    };
    for (const change of changes) {
      const root = change.path[0] ?? '';
      if (root === 'locations') {
        if (change.op === 'replace' && Array.isArray(change.value) && change.value.length === 0) {
          throw forbidden('Cannot set locations to empty list.');
        }
        throw forbidden(`It's not allowed to ${change.op === 'remove' ? 'remove' : change.op === 'add' ? 'add' : 'update'} locations if locations are invisible.`);
      }
      if (change.op === 'replace') {
        if (root === 'owner' && !caller.isAdmin) throw forbidden("Owner can't be updated by non admin.");
        modify(root, change.value);
        if (MUTABLE_BASE.has(root)) setBase(root, change.value);
        else if (!Object.hasOwn(properties, root)) throw conflict(`Property ${root} does not exist.`);
        else if (change.value === null) delete properties[root];
        else properties[root] = String(change.value);
      } else if (change.op === 'add') {
        modify(root, change.value);
        if (change.draft === 4 && (MUTABLE_BASE.has(root) || Object.hasOwn(properties, root))) throw conflict(`Property ${root} already present.`);
        if (MUTABLE_BASE.has(root)) setBase(root, change.value);
        else if (change.value === null) delete properties[root];
        else properties[root] = String(change.value);
      } else {
        modify(root);
        if (MUTABLE_BASE.has(root)) throw forbidden(`Property ${root} may not be removed.`);
        if (!Object.hasOwn(properties, root)) throw conflict(`Property ${root} does not exist.`);
        delete properties[root];
      }
    }
    if (changes.length === 0) return img;
    checkQuotas(properties, tags);
    row.updated_at = this.now();
    const updated: ImageFull = { row, properties, tags: [...tags].sort() };
    await this.repo.save(updated);
    return updated;
  }

  /** DELETE /v2/images/{id}. */
  async delete(caller: Caller, id: string, system = false): Promise<void> {
    const img = await this.repo.full(id);
    if (!img || !(system || (await this.canSee(img.row, caller)))) throw notFound(`Failed to find image ${id} to delete`);
    if (!system && !ownsForWrite(img.row, caller)) throw notAuthorized('delete_image');
    if (img.row.protected === 1 && !system) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    await this.repo.markDeleted(id, this.now());
    await this.removeData(id);
  }

  private async removeData(id: string): Promise<void> {
    try {
      await this.store.delete(id);
      await this.store.delete(stagingKey(id));
    } catch (err) {
      this.log.warn({ err, imageId: id }, 'could not remove image data');
    }
  }

  // ---- data ----------------------------------------------------------------

  /** PUT /v2/images/{id}/file (and the internal upload for snapshots). */
  async upload(caller: Caller, id: string, data: AsyncIterable<Uint8Array>, system = false): Promise<ImageFull> {
    let img: ImageFull;
    if (system) {
      const found = await this.repo.full(id);
      if (!found) throw imageNotFound(id);
      img = found;
    } else {
      img = await this.lookup(id, caller);
      if (!ownsForWrite(img.row, caller)) throw notAuthorized('upload_image');
    }
    this.checkCanSave(img.row, 'saving');
    if (!(await this.repo.update(id, { status: 'saving', updated_at: this.now() }, 'queued'))) {
      const now = await this.repo.row(id);
      throw conflict(`Image status transition from ${now?.status ?? 'deleted'} to saving is not allowed`);
    }
    let stored;
    try {
      stored = await this.store.write(id, data, this.deps.maxImageBytes);
    } catch (err) {
      await this.repo.update(id, { status: 'queued', size: null, virtual_size: null, updated_at: this.now() }, 'saving');
      throw err;
    }
    const ok = await this.repo.update(
      id,
      {
        status: 'active',
        size: stored.size,
        virtual_size: virtualSize(img.row.disk_format, stored.head, stored.size),
        checksum: stored.checksum,
        os_hash_algo: 'sha512',
        os_hash_value: stored.hash,
        updated_at: this.now(),
      },
      'saving',
    );
    if (!ok) {
      await this.removeData(id);
      throw new GlanceError(
        410,
        `Image ${id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`,
      );
    }
    const out = await this.repo.full(id);
    if (!out) throw imageNotFound(id);
    return out;
  }

  private checkCanSave(row: ImageRow, target: 'saving' | 'uploading'): void {
    if (row.status !== 'queued') throw conflict(`Image status transition from ${row.status} to ${target} is not allowed`);
    const missing = (['disk_format', 'container_format'] as const).filter((k) => !row[k]);
    if (missing.length === 1) throw badRequest(`Property ${missing.join(', ')} must be set prior to saving data.`);
    if (missing.length > 1) throw badRequest(`Properties ${missing.join(', ')} must be set prior to saving data.`);
  }

  /** PUT /v2/images/{id}/stage (interoperable import, glance-direct). */
  async stage(caller: Caller, id: string, data: AsyncIterable<Uint8Array>): Promise<void> {
    const img = await this.lookup(id, caller);
    if (!ownsForWrite(img.row, caller)) throw notAuthorized('upload_image');
    if (img.row.status !== 'queued') throw conflict(`Image status transition from ${img.row.status} to uploading is not allowed`);
    if (await this.store.has(stagingKey(id))) throw conflict(`The image ${id} has data on staging`);
    if (!(await this.repo.update(id, { status: 'uploading', updated_at: this.now() }, 'queued'))) {
      throw conflict(`Image status transition from ${img.row.status} to uploading is not allowed`);
    }
    try {
      const stored = await this.store.write(stagingKey(id), data, this.deps.maxImageBytes);
      await this.repo.update(id, { size: stored.size, updated_at: this.now() }, 'uploading');
    } catch (err) {
      await this.repo.update(id, { status: 'queued', size: null, updated_at: this.now() }, 'uploading');
      throw err;
    }
  }

  /** POST /v2/images/{id}/import: glance-direct only; completes before answering. */
  async importImage(caller: Caller, id: string, body: unknown): Promise<void> {
    if (body === undefined) throw badRequest('Body expected in request.');
    const method = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).method : undefined;
    if (method === undefined) throw badRequest("Import request requires a 'method' field.");
    const name = method !== null && typeof method === 'object' ? (method as Record<string, unknown>).name : undefined;
    if (name === undefined) throw badRequest("Import request requires a 'name' field.");
    if (name !== 'glance-direct') throw badRequest(`Unknown import method name '${String(name)}'.`);
    const img = await this.lookup(id, caller);
    if (!ownsForWrite(img.row, caller)) throw notAuthorized('modify_image');
    const row = img.row;
    if (row.status === 'active') throw conflict('Image with status active cannot be target for import');
    if (row.status !== 'uploading') throw conflict("Image needs to be staged before 'glance-direct' method can be used");
    if (!row.container_format) throw conflict("'container_format' needs to be set before import");
    if (!row.disk_format) throw conflict("'disk_format' needs to be set before import");
    if (!(await this.repo.update(id, { status: 'importing', updated_at: this.now() }, 'uploading'))) {
      throw conflict(`Image status transition from ${row.status} to importing is not allowed`);
    }
    try {
      const stored = await this.store.write(id, this.store.read(stagingKey(id)), this.deps.maxImageBytes);
      await this.store.delete(stagingKey(id));
      const ok = await this.repo.update(
        id,
        {
          status: 'active',
          size: stored.size,
          virtual_size: virtualSize(row.disk_format, stored.head, stored.size),
          checksum: stored.checksum,
          os_hash_algo: 'sha512',
          os_hash_value: stored.hash,
          updated_at: this.now(),
        },
        'importing',
      );
      if (!ok) await this.removeData(id);
    } catch (err) {
      await this.repo.update(id, { status: 'queued', size: null, updated_at: this.now() }, 'importing');
      await this.removeData(id);
      throw err;
    }
  }

  /** GET /v2/images/{id}/file. */
  async download(caller: Caller, id: string, range: string | undefined): Promise<Download> {
    const img = await this.lookup(id, caller);
    const row = img.row;
    if (row.status === 'deactivated' && !caller.isAdmin) {
      throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    }
    if (!caller.isAdmin && !caller.member) throw notAuthorized('download_image');
    if ((row.status !== 'active' && row.status !== 'deactivated') || row.size === null || !(await this.store.has(id))) {
      return { status: 204 };
    }
    const r = parseRange(range, row.size);
    if (r === 'unsatisfiable') return { status: 416, contentRange: `bytes */${row.size}` };
    if (r === undefined) return { status: 200, stream: this.store.read(id), length: row.size, checksum: row.checksum };
    return {
      status: 206,
      stream: this.store.read(id, r),
      length: r.end - r.start + 1,
      checksum: row.checksum,
      contentRange: `bytes ${r.start}-${r.end}/${row.size}`,
    };
  }

  // ---- actions and tags ------------------------------------------------------

  async deactivate(caller: Caller, id: string): Promise<void> {
    const img = await this.lookup(id, caller);
    if (!ownsForWrite(img.row, caller)) throw notAuthorized('deactivate');
    if (img.row.status === 'deactivated') return;
    if (img.row.status !== 'active') throw forbidden(`Not allowed to deactivate image in status '${img.row.status}'`);
    await this.repo.update(id, { status: 'deactivated', updated_at: this.now() }, 'active');
  }

  async reactivate(caller: Caller, id: string): Promise<void> {
    const img = await this.lookup(id, caller);
    if (!ownsForWrite(img.row, caller)) throw notAuthorized('reactivate');
    if (img.row.status === 'active') return;
    if (img.row.status !== 'deactivated') throw forbidden(`Not allowed to reactivate image in status '${img.row.status}'`);
    await this.repo.update(id, { status: 'active', updated_at: this.now() }, 'deactivated');
  }

  async addTag(caller: Caller, id: string, tag: string): Promise<void> {
    const invalid = validateImageDoc({ tags: [tag] });
    if (invalid) throw invalid;
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (!ownsForWrite(img.row, caller)) throw forbidden(`Not allowed to update tags for image ${id}.`);
    if (img.tags.includes(tag)) {
      await this.repo.update(id, { updated_at: this.now() });
      return;
    }
    if (img.tags.length + 1 > TAG_QUOTA) {
      throw new GlanceError(
        413,
        `Image tag limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image tags. Attempted: ${img.tags.length + 1}, Maximum: ${TAG_QUOTA}:`,
      );
    }
    await this.repo.addTag(id, tag);
    await this.repo.update(id, { updated_at: this.now() });
  }

  async deleteTag(caller: Caller, id: string, tag: string): Promise<void> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (!ownsForWrite(img.row, caller)) throw forbidden(`Not allowed to delete tags for image ${id}.`);
    if (!(await this.repo.removeTag(id, tag))) throw notFound();
    await this.repo.update(id, { updated_at: this.now() });
  }

  // ---- members ---------------------------------------------------------------

  private canSeeMember(img: ImageFull, caller: Caller, member: string): boolean {
    return caller.isAdmin || img.row.owner === caller.projectId || member === caller.projectId;
  }

  async listMembers(caller: Caller, id: string): Promise<ImageMemberRow[]> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (img.row.visibility !== 'shared') throw forbidden(`Not allowed to list members for image ${id}: Only shared images have members.`);
    const all = await this.repo.members(id);
    return all.filter((m) => this.canSeeMember(img, caller, m.member));
  }

  async showMember(caller: Caller, id: string, member: string): Promise<ImageMemberRow> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (img.row.visibility !== 'shared') throw notFound('Only shared images have members.');
    const m = await this.repo.member(id, member);
    if (!m || !this.canSeeMember(img, caller, member)) throw notFound(`${member} not found in the member list of the image ${id}.`);
    return m;
  }

  async addMember(caller: Caller, id: string, body: unknown): Promise<ImageMemberRow> {
    if (body === undefined) throw badRequest('Body expected in request.');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Expected a member in the form: {"member": "image_id"}');
    const rec = body as Record<string, unknown>;
    if (!('member' in rec)) throw badRequest('Member to be added not specified');
    const member = rec.member;
    if (!member) throw badRequest("Member can't be empty");
    if (typeof member !== 'string') throw badRequest('Expected a member in the form: {"member": "image_id"}');
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (img.row.visibility !== 'shared' || !ownsForWrite(img.row, caller)) throw forbidden(`Not allowed to create members for image ${id}.`);
    if (await this.repo.member(id, member)) throw conflict(`Member ${member} is duplicated for image ${id}`);
    const count = (await this.repo.members(id)).length;
    if (count + 1 > MEMBER_QUOTA) {
      throw new GlanceError(
        413,
        `Image member limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: ${count + 1}, Maximum: ${MEMBER_QUOTA}:`,
      );
    }
    const now = this.now();
    const row: ImageMemberRow = { image_id: id, member, status: 'pending', created_at: now, updated_at: now };
    await this.repo.addMember(row);
    return row;
  }

  async updateMember(caller: Caller, id: string, member: string, body: unknown): Promise<ImageMemberRow> {
    if (body === undefined) throw badRequest('Body expected in request.');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Expected a status in the form: {"status": "status"}');
    const rec = body as Record<string, unknown>;
    if (!('status' in rec)) throw badRequest('Status not specified');
    const status = rec.status;
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (img.row.visibility !== 'shared') throw forbidden(`Not allowed to update members for image ${id}.`);
    const m = await this.repo.member(id, member);
    if (!m || !this.canSeeMember(img, caller, member)) throw notFound(`${member} not found in the member list of the image ${id}.`);
    if (!(caller.isAdmin || (caller.member && caller.projectId === member))) throw forbidden(`Not allowed to update members for image ${id}.`);
    if (typeof status !== 'string' || !(MEMBER_STATUSES as readonly string[]).includes(status)) {
      throw badRequest(`Incorrect request: Status must be one of ${MEMBER_STATUSES.join(', ')}`);
    }
    const now = this.now();
    await this.repo.updateMember(id, member, status, now);
    return { ...m, status, updated_at: now };
  }

  async deleteMember(caller: Caller, id: string, member: string): Promise<void> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (img.row.visibility !== 'shared' || !ownsForWrite(img.row, caller)) throw forbidden(`Not allowed to delete members for image ${id}.`);
    const m = await this.repo.member(id, member);
    if (!m) throw notFound(`${member} not found in the member list of the image ${id}.`);
    await this.repo.removeMember(id, member);
  }

  // ---- for other services ------------------------------------------------------

  /** Registers an image on behalf of another service (no policy): status queued. */
  async register(spec: NewImage): Promise<ImageFull> {
    const id = spec.id ?? randomUUID();
    if (await this.repo.idTaken(id)) throw conflict(`Image with identifier ${id} already exists!`);
    const now = this.now();
    const img: ImageFull = {
      row: {
        id,
        name: spec.name,
        status: 'queued',
        visibility: spec.visibility ?? 'private',
        protected: spec.protected ? 1 : 0,
        os_hidden: spec.os_hidden ? 1 : 0,
        checksum: null,
        os_hash_algo: null,
        os_hash_value: null,
        owner: spec.owner,
        size: null,
        virtual_size: null,
        min_disk: spec.min_disk ?? 0,
        min_ram: spec.min_ram ?? 0,
        disk_format: spec.disk_format ?? null,
        container_format: spec.container_format ?? null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        deleted: 0,
      },
      properties: Object.assign(dict<string>(), spec.properties ?? {}),
      tags: [...new Set(spec.tags ?? [])].sort(),
    };
    await this.repo.insert(img);
    return img;
  }

  /** Sets an image's status without policy (e.g. `killed` when a snapshot fails). */
  async setStatus(id: string, status: string): Promise<boolean> {
    return this.repo.update(id, { status, updated_at: this.now() });
  }

  /** After a crash, uploads in flight can never finish: make those images uploadable again. */
  async recoverInterrupted(): Promise<void> {
    const now = this.now();
    const stuck = await this.deps.db
      .selectFrom('images')
      .select(['id', 'status'])
      .where('deleted', '=', 0)
      .where('status', 'in', ['saving', 'importing', 'uploading'])
      .execute();
    for (const s of stuck) {
      const staged = await this.store.has(stagingKey(s.id));
      if (s.status === 'saving' || !staged) {
        await this.repo.update(s.id, { status: 'queued', size: null, virtual_size: null, updated_at: now }, s.status);
      } else if (s.status === 'importing') {
        await this.repo.update(s.id, { status: 'uploading', updated_at: now }, 'importing');
      }
    }
  }
}
