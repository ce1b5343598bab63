import { schemaFor } from '../../api/validation.js';
import { NON_NEGATIVE_INT, qparam, querySchema, raw } from './common.js';

/** Sort keys Nova accepts for GET /flavors (rxtx_factor dropped at 2.102). */
export const FLAVOR_SORT_KEYS = [
  'created_at', 'description', 'disabled', 'ephemeral_gb', 'flavorid', 'id', 'is_public', 'memory_mb', 'name',
  'root_gb', 'rxtx_factor', 'swap', 'updated_at', 'vcpu_weight', 'vcpus',
];
const SORT_KEYS_V2102 = FLAVOR_SORT_KEYS.filter((k) => k !== 'rxtx_factor');

export const MAX_INT = 0x7fffffff;
export const SQL_SP_FLOAT_MAX = 3.40282e38;

/** Integers given as numbers or digit strings; ranges of digit strings are checked by the handler. */
const flavorInt = (min: number) => ({ type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: min, maximum: MAX_INT });

export const FLAVOR_ID_PATTERN = '^(?! )[a-zA-Z0-9. _-]+(?<! )$';

/** parameter_types.boolean: the strings oslo accepts, or a JSON boolean. */
export const BOOLEAN = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes',
    false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
};

const description = { type: ['string', 'null'], minLength: 0, maxLength: 65535 };

function createSchema(opts: { description: boolean; rxtx: boolean }) {
  const props: Record<string, unknown> = {
    // The `name` format (printable, no edge whitespace) is checked by the handler, with Nova's message.
    name: { type: 'string', minLength: 1, maxLength: 255 },
    id: { type: ['string', 'number', 'null'], minLength: 1, maxLength: 255, pattern: FLAVOR_ID_PATTERN },
    ram: flavorInt(1),
    vcpus: flavorInt(1),
    disk: flavorInt(0),
    'OS-FLV-EXT-DATA:ephemeral': flavorInt(0),
    swap: flavorInt(0),
    'os-flavor-access:is_public': BOOLEAN,
  };
  if (opts.rxtx) {
    props.rxtx_factor = { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?$', exclusiveMinimum: 0, maximum: SQL_SP_FLOAT_MAX };
  }
  if (opts.description) props.description = description;
  return raw({
    type: 'object',
    properties: {
      flavor: { type: 'object', properties: props, required: ['name', 'ram', 'vcpus', 'disk'], additionalProperties: false },
    },
    required: ['flavor'],
    additionalProperties: false,
  });
}

export const createFlavorBody = schemaFor(
  { max: '2.54', schema: createSchema({ description: false, rxtx: true }) },
  { min: '2.55', max: '2.101', schema: createSchema({ description: true, rxtx: true }) },
  { min: '2.102', schema: createSchema({ description: true, rxtx: false }) },
);

export const updateFlavorBody = schemaFor({
  min: '2.55',
  schema: raw({
    type: 'object',
    properties: {
      flavor: { type: 'object', properties: { description }, required: ['description'], additionalProperties: false },
    },
    required: ['flavor'],
    additionalProperties: false,
  }),
});

function indexQuery(version: 'v21' | 'v275' | 'v2102') {
  const props: Record<string, Record<string, unknown>> = {
    limit: qparam(NON_NEGATIVE_INT),
    marker: qparam(),
    is_public: qparam(),
    minRam: qparam(),
    minDisk: qparam(),
    sort_key: qparam({ type: 'string', enum: version === 'v2102' ? SORT_KEYS_V2102 : FLAVOR_SORT_KEYS }),
    sort_dir: qparam({ type: 'string', enum: ['asc', 'desc'] }),
  };
  if (version === 'v2102') props.name = qparam();
  return querySchema(props, version !== 'v21');
}

export const flavorIndexQuery = schemaFor(
  { max: '2.74', schema: indexQuery('v21') },
  { min: '2.75', max: '2.101', schema: indexQuery('v275') },
  { min: '2.102', schema: indexQuery('v2102') },
);

/** Show-like GETs (flavor show, extra specs, flavor access, availability zones): strict from 2.102. */
export const strictFrom2102Query = schemaFor(
  { max: '2.101', schema: querySchema({}, false) },
  { min: '2.102', schema: querySchema({}, true) },
);

const EXTRA_SPEC_KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
const extraSpecMap = {
  type: 'object',
  patternProperties: { [EXTRA_SPEC_KEY]: { type: ['string', 'number'], maxLength: 255 } },
  additionalProperties: false,
};

export const createExtraSpecsBody = schemaFor({
  schema: raw({ type: 'object', properties: { extra_specs: extraSpecMap }, required: ['extra_specs'], additionalProperties: false }),
});

export const updateExtraSpecBody = schemaFor({ schema: raw({ ...extraSpecMap, minProperties: 1, maxProperties: 1 }) });

const tenantAction = (key: string) =>
  schemaFor({
    schema: raw({
      type: 'object',
      properties: {
        [key]: {
          type: 'object',
          properties: { tenant: { type: 'string', minLength: 1, maxLength: 255 } },
          required: ['tenant'],
          additionalProperties: false,
        },
      },
      required: [key],
      additionalProperties: false,
    }),
  });

export const addTenantAccessBody = tenantAction('addTenantAccess');
export const removeTenantAccessBody = tenantAction('removeTenantAccess');
