import type { RequestContext } from '../context.js';
import { isoSeconds } from '../lib/time.js';
import type { ImageMemberRow, ImageRow } from './tables.js';
import type { ImageRecord } from './types.js';

/** An image with its extra properties and tags. */
export interface ImageFull {
  row: ImageRow;
  properties: Record<string, string>;
  tags: string[];
}

/** Who is asking, reduced to what Glance's checks read. */
export interface Caller {
  projectId: string | null;
  isAdmin: boolean;
  /** Has the member role (may create and change its project's images). */
  member: boolean;
  /** Has the reader (or member) role. */
  reader: boolean;
}

export function callerOf(ctx: Pick<RequestContext, 'projectId' | 'isAdmin' | 'roles'>): Caller {
  const roles = ctx.roles.map((r) => r.toLowerCase());
  const member = roles.includes('member') || roles.includes('admin') || roles.includes('manager');
  return {
    projectId: ctx.projectId,
    isAdmin: ctx.isAdmin,
    member,
    reader: member || roles.includes('reader'),
  };
}

/** The internal caller used by other services (compute snapshots): an admin. */
export const SYSTEM_CALLER: Caller = { projectId: null, isAdmin: true, member: true, reader: true };

/** Base attributes that a JSON patch may set (the others are read-only or reserved). */
export const MUTABLE_BASE = new Set(['name', 'visibility', 'os_hidden', 'min_disk', 'min_ram', 'protected', 'owner', 'disk_format', 'container_format', 'tags']);
/** Attributes the server computes; clients may not set them. */
export const READONLY = new Set([
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
]);
/** Refused on create as read-only before anything else. */
export const DISALLOWED_ON_CREATE = ['direct_url', 'self', 'file', 'schema', 'stores'];
export const RESERVED = new Set(['location', 'deleted', 'deleted_at']);
export const RESERVED_NAMESPACE = 'os_glance';

export const MAX_INT32 = 2147483647;
/** Glance's image_property_quota, image_tag_quota and image_member_quota defaults. */
export const PROPERTY_QUOTA = 128;
export const TAG_QUOTA = 128;
export const MEMBER_QUOTA = 128;

/** An empty string map without prototype, safe for any key (even `__proto__`). */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The Glance v2 JSON of an image. */
export function imageView(img: ImageFull): Record<string, unknown> {
  const r = img.row;
  const view = dict<unknown>();
  for (const [k, v] of Object.entries(img.properties)) view[k] = v;
  Object.assign(view, {
    id: r.id,
    name: r.name,
    status: r.status,
    visibility: r.visibility,
    protected: r.protected === 1,
    os_hidden: r.os_hidden === 1,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    owner: r.owner,
    size: r.size,
    virtual_size: r.virtual_size,
    min_ram: r.min_ram,
    min_disk: r.min_disk,
    disk_format: r.disk_format,
    container_format: r.container_format,
    created_at: isoSeconds(r.created_at),
    updated_at: isoSeconds(r.updated_at),
    tags: [...img.tags],
    self: `/v2/images/${r.id}`,
    file: `/v2/images/${r.id}/file`,
    schema: '/v2/schemas/image',
  });
  return view;
}

export function memberView(m: ImageMemberRow): Record<string, unknown> {
  return {
    member_id: m.member,
    image_id: m.image_id,
    status: m.status,
    created_at: isoSeconds(m.created_at),
    updated_at: isoSeconds(m.updated_at),
    schema: '/v2/schemas/member',
  };
}

/** The compute side's view of an image. */
export function toRecord(img: ImageFull): ImageRecord {
  const r = img.row;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    visibility: r.visibility,
    owner: r.owner,
    size: r.size,
    min_disk: r.min_disk,
    min_ram: r.min_ram,
    disk_format: r.disk_format,
    container_format: r.container_format,
    created_at: isoSeconds(r.created_at),
    updated_at: isoSeconds(r.updated_at),
    properties: Object.assign(dict<string>(), img.properties),
    checksum: r.checksum,
    virtual_size: r.virtual_size,
    protected: r.protected === 1,
    tags: [...img.tags],
  };
}

/**
 * Whether `caller` may see the image at all (Glance's DB-level rule): admins
 * see everything; images without owner, public and community images are seen
 * by all; otherwise the owner, or a member of a shared image (any status).
 */
export function visibleTo(row: ImageRow, caller: Caller, isMember: boolean): boolean {
  if (caller.isAdmin) return true;
  if (row.owner === null) return true;
  if (row.visibility === 'public' || row.visibility === 'community') return true;
  if (caller.projectId === null) return false;
  if (row.owner === caller.projectId) return true;
  return row.visibility === 'shared' && isMember;
}

/** admin, or a member of the owning project (Glance's ADMIN_OR_PROJECT_MEMBER on the image). */
export function ownsForWrite(row: Pick<ImageRow, 'owner'>, caller: Caller): boolean {
  return caller.isAdmin || (caller.member && caller.projectId !== null && row.owner === caller.projectId);
}
