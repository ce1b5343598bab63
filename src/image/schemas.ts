import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { badRequest, type GlanceError } from './errors.js';

/** Image statuses Glance knows. */
export const IMAGE_STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'uploading',
  'importing',
  'pending_delete',
  'deactivated',
] as const;

export const VISIBILITIES = ['community', 'public', 'private', 'shared'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;

const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

const nullableString = (description: string, extra: Record<string, unknown> = {}) => ({
  type: ['null', 'string'],
  description,
  ...extra,
});

/** The base properties of an image, as the `image` schema documents them. */
function imageProperties(): Record<string, unknown> {
  return {
    id: { type: 'string', description: 'A unique, user-defined image UUID, in the format "nnnnnnnn-nnnn-nnnn-nnnn-nnnnnnnnnnnn".', pattern: UUID_PATTERN },
    name: nullableString('Descriptive name for the image.', { maxLength: 255 }),
    status: { type: 'string', readOnly: true, description: 'Status of the image.', enum: [...IMAGE_STATUSES] },
    visibility: { type: 'string', description: 'Scope of image accessibility.', enum: [...VISIBILITIES] },
    protected: { type: 'boolean', description: 'If true, the image cannot be deleted.' },
    os_hidden: { type: 'boolean', description: 'If true, the image is left out of default image lists.' },
    checksum: nullableString('md5 hash of the image data.', { readOnly: true, maxLength: 32 }),
    os_hash_algo: nullableString('Algorithm of the secure hash in os_hash_value.', { readOnly: true, maxLength: 64 }),
    os_hash_value: nullableString('Secure hash of the image data.', { readOnly: true, maxLength: 128 }),
    owner: nullableString('Project that owns the image.', { maxLength: 255 }),
    size: { type: ['null', 'integer'], readOnly: true, description: 'Size of the image data, in bytes.' },
    virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of the image, in bytes.' },
    container_format: nullableString('Format of the image container.', { enum: [null, ...CONTAINER_FORMATS] }),
    disk_format: nullableString('Format of the disk.', { enum: [null, ...DISK_FORMATS] }),
    created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration.' },
    updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification.' },
    tags: { type: 'array', description: 'List of strings related to the image.', items: { type: 'string', maxLength: 255 } },
    direct_url: { type: 'string', readOnly: true, description: 'URL to access the image file kept in external store.' },
    min_ram: { type: 'integer', description: 'Amount of RAM in MB required to boot the image.' },
    min_disk: { type: 'integer', description: 'Amount of disk space in GB required to boot the image.' },
    self: { type: 'string', readOnly: true, description: 'URL of the image.' },
    file: { type: 'string', readOnly: true, description: 'URL of the image data.' },
    stores: { type: 'string', readOnly: true, description: 'Stores where the image data lives.' },
    schema: { type: 'string', readOnly: true, description: 'URL of the image schema.' },
    locations: {
      type: 'array',
      description: 'A set of URLs to access the image file kept in external store.',
      items: {
        type: 'object',
        properties: { url: { type: 'string', maxLength: 255 }, metadata: { type: 'object' } },
        required: ['url', 'metadata'],
      },
    },
    // Well-known optional properties (not base attributes).
    kernel_id: nullableString('ID of an image stored in Glance used as the kernel when booting an AMI-style image.', { pattern: UUID_PATTERN, is_base: false }),
    ramdisk_id: nullableString('ID of an image stored in Glance used as the ramdisk when booting an AMI-style image.', { pattern: UUID_PATTERN, is_base: false }),
    instance_uuid: { type: 'string', description: 'Server the image was created from (snapshots).', is_base: false },
    architecture: { type: 'string', description: 'CPU architecture required by the image.', is_base: false },
    os_distro: { type: 'string', description: 'Common name of the operating system distribution, in lowercase.', is_base: false },
    os_version: { type: 'string', description: 'Operating system version as specified by the distributor.', is_base: false },
    description: { type: 'string', description: 'A human-readable description of the image.', is_base: false },
    cinder_encryption_key_id: { type: 'string', description: 'Key of an encrypted volume image.', is_base: false },
    cinder_encryption_key_deletion_policy: {
      type: 'string',
      description: 'What to do with the encryption key when the image is deleted.',
      enum: ['on_image_deletion', 'do_not_delete'],
      is_base: false,
    },
  };
}

export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    properties: imageProperties(),
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function memberSchema(): Record<string, unknown> {
  return {
    name: 'member',
    properties: {
      created_at: { type: 'string', description: 'Date and time of image member creation.' },
      image_id: { type: 'string', description: 'An identifier for the image.', pattern: UUID_PATTERN },
      member_id: { type: 'string', description: 'An identifier for the image member (project).' },
      status: { type: 'string', description: 'The status of this image member.', enum: [...MEMBER_STATUSES] },
      updated_at: { type: 'string', description: 'Date and time of last modification of image member.' },
      schema: { type: 'string', readOnly: true },
    },
  };
}

export function membersSchema(): Record<string, unknown> {
  return {
    name: 'members',
    properties: {
      members: { type: 'array', items: memberSchema() },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export const SCHEMAS: Record<string, () => Record<string, unknown>> = {
  image: imageSchema,
  images: imagesSchema,
  member: memberSchema,
  members: membersSchema,
};

const ajv = new Ajv({ allErrors: false, strict: false });
let imageValidator: ValidateFunction | undefined;

/** Python-ish rendering of a JSON value, as jsonschema's messages show it. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v) ?? 'None';
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function describe(err: ErrorObject, doc: unknown): string {
  const value = valueAt(doc, err.instancePath);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': {
      const t = p.type;
      const types = Array.isArray(t) ? t.map((x) => `'${String(x)}'`).join(', ') : `'${String(t)}'`;
      return `${pyRepr(value)} is not of type ${types}`;
    }
    case 'enum':
      return `${pyRepr(value)} is not one of ${pyRepr(p.allowedValues)}`;
    case 'maxLength':
      return `${pyRepr(value)} is too long`;
    case 'pattern':
      return `${pyRepr(value)} does not match ${pyRepr(p.pattern)}`;
    case 'required':
      return `${pyRepr(p.missingProperty)} is a required property`;
    default:
      return `${pyRepr(value)}: ${err.message ?? 'is invalid'}`;
  }
}

/** Validates an image document against the image schema; a 400 in Glance's words when it does not match. */
export function validateImageDoc(doc: Record<string, unknown>): GlanceError | null {
  imageValidator ??= ajv.compile(imageSchema());
  if (imageValidator(doc)) return null;
  const err = imageValidator.errors?.[0];
  const detail = err ? describe(err, doc) : 'invalid';
  return badRequest(`Provided object does not match schema 'image': ${detail}`);
}
