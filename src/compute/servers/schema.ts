import { Type, type ObjectOptions, type TProperties, type TSchema } from '@sinclair/typebox';
import { schemaFor, type SchemaRange } from '../../api/validation.js';

/** A closed object whose properties are optional except `required`. */
export function obj(props: TProperties, required: string[] = [], opts: ObjectOptions = {}): TSchema {
  const entries = Object.entries(props).map(([k, v]) => [k, required.includes(k) ? v : Type.Optional(v)] as const);
  return Type.Object(Object.fromEntries(entries), { additionalProperties: false, ...opts });
}

/** Nova's shared parameter types. */
export const P = {
  name: Type.String({ minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' }),
  description: Type.Union([Type.String({ maxLength: 255 }), Type.Null()]),
  uuid: Type.String({ format: 'uuid' }),
  imageRefOrEmpty: Type.Union([Type.String({ format: 'uuid' }), Type.String({ maxLength: 0 })]),
  flavorRef: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]),
  metadata: Type.Object({}, {
    patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': Type.String({ maxLength: 255 }) },
    additionalProperties: false,
  }),
  positiveInteger: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]*[1-9][0-9]*$' })]),
  boolean: Type.Union([
    Type.Boolean(),
    Type.Enum({ a: '1', b: 't', c: 'true', d: 'on', e: 'y', f: 'yes', g: '0', h: 'f', i: 'false', j: 'off', k: 'n', l: 'no', m: 'True', n: 'False', o: 'TRUE', p: 'FALSE', q: 'On', r: 'Off', s: 'YES', t: 'NO', u: 'Yes', v: 'No' }),
  ]),
  diskConfig: Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')]),
  ipv4: Type.String({ format: 'ipv4' }),
  ipv6: Type.String({ format: 'ipv6' }),
  tag: Type.String({ minLength: 1, maxLength: 60, pattern: '^[^,/]*$' }),
  hostname: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$' }),
  fqdn: Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9]([a-zA-Z0-9-.]*[a-zA-Z0-9])?$' }),
};

export const TRUE_STRINGS = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
export const asBool = (v: unknown): boolean => v === true || (typeof v === 'string' && TRUE_STRINGS.has(v.toLowerCase()));

interface CreateFeatures {
  description: boolean;
  nicTags: boolean;
  networksRequired: boolean;
  tags: boolean;
  personality: boolean;
  trustedCerts: boolean;
  volumeType: boolean;
  host: boolean;
  hostname: 'none' | 'short' | 'fqdn';
}

function bdmV2(f: CreateFeatures): TSchema {
  return Type.Array(
    obj(
      {
        device_name: Type.Union([Type.String({ maxLength: 255 }), Type.Null()]),
        source_type: Type.Union([Type.Literal('volume'), Type.Literal('image'), Type.Literal('snapshot'), Type.Literal('blank')]),
        destination_type: Type.Union([Type.Literal('local'), Type.Literal('volume')]),
        delete_on_termination: P.boolean,
        guest_format: Type.String({ maxLength: 255 }),
        boot_index: Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]+$' }), Type.Null()]),
        uuid: Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' }),
        image_id: P.uuid,
        snapshot_id: P.uuid,
        volume_id: P.uuid,
        volume_size: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]*[1-9][0-9]*$' }), Type.Null()]),
        disk_bus: Type.String(),
        device_type: Type.String(),
        no_device: Type.Boolean(),
        connection_info: Type.String(),
        ...(f.nicTags ? { tag: P.tag } : {}),
        ...(f.volumeType ? { volume_type: Type.Union([Type.String({ minLength: 0, maxLength: 255 }), Type.Null()]) } : {}),
      },
    ),
  );
}

function networksSchema(f: CreateFeatures): TSchema {
  const list = Type.Array(
    obj({
      fixed_ip: Type.Union([P.ipv4, P.ipv6]),
      port: Type.Union([P.uuid, Type.Null()]),
      uuid: Type.String(),
      ...(f.nicTags ? { tag: P.tag } : {}),
    }),
  );
  if (!f.networksRequired) return list;
  return Type.Union([list, Type.Literal('auto'), Type.Literal('none')]);
}

function createServerSchema(f: CreateFeatures): TSchema {
  const server = obj(
    {
      name: P.name,
      imageRef: P.imageRefOrEmpty,
      flavorRef: P.flavorRef,
      adminPass: Type.String(),
      metadata: P.metadata,
      networks: networksSchema(f),
      'OS-DCF:diskConfig': P.diskConfig,
      accessIPv4: P.ipv4,
      accessIPv6: P.ipv6,
      ...(f.personality
        ? {
            personality: Type.Array(obj({ path: Type.String(), contents: Type.String() }, ['path', 'contents'])),
          }
        : {}),
      availability_zone: Type.String({ minLength: 1, maxLength: 255 }),
      block_device_mapping: Type.Array(Type.Object({}, { additionalProperties: true })),
      block_device_mapping_v2: bdmV2(f),
      config_drive: P.boolean,
      key_name: Type.String({ minLength: 1, maxLength: 255 }),
      min_count: P.positiveInteger,
      max_count: P.positiveInteger,
      return_reservation_id: P.boolean,
      security_groups: Type.Array(obj({ name: Type.String({ minLength: 1, maxLength: 255 }) })),
      user_data: Type.String({ maxLength: 65535 }),
      ...(f.description ? { description: P.description } : {}),
      ...(f.tags ? { tags: Type.Array(P.tag, { maxItems: 50 }) } : {}),
      ...(f.trustedCerts
        ? { trusted_image_certificates: Type.Union([Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 50, uniqueItems: true }), Type.Null()]) }
        : {}),
      ...(f.host ? { host: Type.String({ minLength: 1, maxLength: 255 }), hypervisor_hostname: Type.String({ minLength: 1, maxLength: 255 }) } : {}),
      ...(f.hostname === 'short' ? { hostname: P.hostname } : f.hostname === 'fqdn' ? { hostname: P.fqdn } : {}),
    },
    f.networksRequired ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'],
  );
  const hints = Type.Object({}, { additionalProperties: true });
  return obj({ server, 'os:scheduler_hints': hints, 'OS-SCH-HNT:scheduler_hints': hints }, ['server']);
}

const base: CreateFeatures = {
  description: false,
  nicTags: false,
  networksRequired: false,
  tags: false,
  personality: true,
  trustedCerts: false,
  volumeType: false,
  host: false,
  hostname: 'none',
};

/** Create-body schemas by microversion, one range per change. */
const createRanges: [string, string | undefined, Partial<CreateFeatures>][] = [
  ['2.1', '2.18', {}],
  ['2.19', '2.31', { description: true }],
  ['2.32', '2.36', { description: true, nicTags: true }],
  ['2.37', '2.51', { description: true, nicTags: true, networksRequired: true }],
  ['2.52', '2.56', { description: true, nicTags: true, networksRequired: true, tags: true }],
  ['2.57', '2.62', { description: true, nicTags: true, networksRequired: true, tags: true, personality: false }],
  ['2.63', '2.66', { description: true, nicTags: true, networksRequired: true, tags: true, personality: false, trustedCerts: true }],
  ['2.67', '2.73', { description: true, nicTags: true, networksRequired: true, tags: true, personality: false, trustedCerts: true, volumeType: true }],
  ['2.74', '2.89', { description: true, nicTags: true, networksRequired: true, tags: true, personality: false, trustedCerts: true, volumeType: true, host: true }],
  ['2.90', '2.93', { description: true, nicTags: true, networksRequired: true, tags: true, personality: false, trustedCerts: true, volumeType: true, host: true, hostname: 'short' }],
  ['2.94', undefined, { description: true, nicTags: true, networksRequired: true, tags: true, personality: false, trustedCerts: true, volumeType: true, host: true, hostname: 'fqdn' }],
];

export const createSchema = schemaFor(
  ...createRanges.map(([min, max, f]): SchemaRange => ({ min, ...(max ? { max } : {}), schema: createServerSchema({ ...base, ...f }) })),
);

function updateServerSchema(f: { description: boolean; hostname: 'none' | 'short' | 'fqdn' }): TSchema {
  return obj(
    {
      server: obj({
        name: P.name,
        'OS-DCF:diskConfig': P.diskConfig,
        accessIPv4: P.ipv4,
        accessIPv6: P.ipv6,
        ...(f.description ? { description: P.description } : {}),
        ...(f.hostname === 'short' ? { hostname: P.hostname } : f.hostname === 'fqdn' ? { hostname: P.fqdn } : {}),
      }),
    },
    ['server'],
  );
}

export const updateSchema = schemaFor(
  { min: '2.1', max: '2.18', schema: updateServerSchema({ description: false, hostname: 'none' }) },
  { min: '2.19', max: '2.89', schema: updateServerSchema({ description: true, hostname: 'none' }) },
  { min: '2.90', max: '2.93', schema: updateServerSchema({ description: true, hostname: 'short' }) },
  { min: '2.94', schema: updateServerSchema({ description: true, hostname: 'fqdn' }) },
);

/** Server metadata bodies: `{"metadata": {...}}` and `{"meta": {"k": "v"}}`. */
export const metadataBodySchema = schemaFor({
  schema: obj({ metadata: P.metadata }, ['metadata']),
});
export const metaItemSchema = schemaFor({
  schema: obj(
    {
      meta: Type.Object({}, {
        patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': Type.String({ maxLength: 255 }) },
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
      }),
    },
    ['meta'],
  ),
});
export const tagsBodySchema = schemaFor({
  schema: obj({ tags: Type.Array(P.tag, { maxItems: 50 }) }, ['tags']),
});
