import { schemaFor } from '../../api/validation.js';
import { NON_NEGATIVE_INT, qparam, querySchema, raw } from './common.js';

/** Key pair names: letters, digits, `_`, `-` and space; from 2.92 also `@` and `.`. The name format is checked by the handler. */
export const KEYPAIR_NAME_PATTERN = '^[_\\- a-zA-Z0-9]+$';
export const KEYPAIR_NAME_PATTERN_V292 = '^[_\\-\\@\\. a-zA-Z0-9]+$';

const name = { type: 'string', minLength: 1, maxLength: 255 };
const type = { type: 'string', enum: ['ssh', 'x509'] };

function createSchema(props: Record<string, unknown>, required: string[]) {
  return raw({
    type: 'object',
    properties: { keypair: { type: 'object', properties: props, required, additionalProperties: false } },
    required: ['keypair'],
    additionalProperties: false,
  });
}

export const createKeypairBody = schemaFor(
  { max: '2.1', schema: createSchema({ name, public_key: { type: 'string' } }, ['name']) },
  { min: '2.2', max: '2.9', schema: createSchema({ name, type, public_key: { type: 'string' } }, ['name']) },
  { min: '2.10', max: '2.91', schema: createSchema({ name, type, public_key: { type: 'string' }, user_id: { type: 'string' } }, ['name']) },
  { min: '2.92', schema: createSchema({ name, type, public_key: { type: 'string' }, user_id: { type: 'string' } }, ['name', 'public_key']) },
);

const userId = { user_id: qparam() };
const paging = { limit: qparam(NON_NEGATIVE_INT), marker: qparam() };

export const keypairIndexQuery = schemaFor(
  { max: '2.9', schema: querySchema({}, false) },
  { min: '2.10', max: '2.34', schema: querySchema(userId, false) },
  { min: '2.35', max: '2.74', schema: querySchema({ ...userId, ...paging }, false) },
  { min: '2.75', schema: querySchema({ ...userId, ...paging }, true) },
);

/** show and delete */
export const keypairItemQuery = schemaFor(
  { max: '2.9', schema: querySchema({}, false) },
  { min: '2.10', max: '2.74', schema: querySchema(userId, false) },
  { min: '2.75', schema: querySchema(userId, true) },
);
