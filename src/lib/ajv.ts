import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from '@sinclair/typebox';

// ajv-formats ships CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const cache = new Map<string, Ajv>();

function ajvFor(opts: Options): Ajv {
  const key = JSON.stringify(opts);
  let ajv = cache.get(key);
  if (!ajv) {
    ajv = new Ajv({ allErrors: false, strict: false, ...opts });
    addFormats(ajv);
    cache.set(key, ajv);
  }
  return ajv;
}

/**
 * Compiles a TypeBox/JSON schema the first time it is used (most of the
 * microversion ranges of a route are never asked for by a given client, and
 * compiled validators cost memory); the returned function narrows its input.
 */
export function compileSchema<T extends TSchema>(
  schema: T,
  opts: Options = {},
): ValidateFunction<Static<T>> {
  let compiled: ValidateFunction<Static<T>> | undefined;
  const lazy = ((data: unknown): boolean => {
    compiled ??= ajvFor(opts).compile<Static<T>>(schema);
    const ok = compiled(data);
    lazy.errors = compiled.errors;
    return ok;
  }) as ValidateFunction<Static<T>>;
  return lazy;
}
