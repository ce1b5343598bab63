import { badRequest, GlanceError, readOnly, reserved } from './errors.js';
import { READONLY, RESERVED, RESERVED_NAMESPACE } from './model.js';
import { validateImageDoc } from './schemas.js';

export const PATCH_MEDIA_TYPES: Record<string, 4 | 10> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};

export interface Change {
  op: 'add' | 'remove' | 'replace';
  /** The decoded pointer, one segment per level. */
  path: string[];
  value?: unknown;
  /** 4 for the v2.0 media type, 10 for v2.1. */
  draft: 4 | 10;
}

const OPS = ['add', 'remove', 'replace'] as const;

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** 415 unless the request is a JSON patch of a media type Glance accepts. */
export function patchDraft(contentType: string | undefined): 4 | 10 {
  const type = mediaType(contentType);
  const draft = Object.hasOwn(PATCH_MEDIA_TYPES, type) ? PATCH_MEDIA_TYPES[type] : undefined;
  if (draft === undefined) {
    const allowed = Object.keys(PATCH_MEDIA_TYPES).sort().join(', ');
    throw new GlanceError(415, `Image PATCH expects Content-Type one of: ${allowed}`, { 'Accept-Patch': allowed });
  }
  return draft;
}

function validatePointer(pointer: string): void {
  if (!pointer.startsWith('/')) throw badRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') throw badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  }
}

function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw badRequest(`Pointer \`${String(pointer)}\` does not start with "/".`);
  validatePointer(pointer);
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

function operation(raw: Record<string, unknown>, draft: 4 | 10): { op: Change['op']; pointer: unknown } {
  if (draft === 10) {
    const op = raw.op;
    if (op === undefined || op === null) {
      throw badRequest(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${OPS.join(', ')}.`);
    }
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
      throw badRequest(`Invalid operation: \`${String(op)}\`. It must be one of the following: ${OPS.join(', ')}.`);
    }
    if (!('path' in raw)) throw badRequest("Unable to find 'path' in JSON Schema change");
    return { op: op as Change['op'], pointer: raw.path };
  }
  let found: Change['op'] | undefined;
  for (const k of OPS) {
    if (k in raw) {
      if (found !== undefined) throw badRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
      found = k;
    }
  }
  if (found === undefined) throw badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  return { op: found, pointer: raw[found] };
}

/** Parses and statically validates a JSON-patch body (before the image is looked up). */
export function parseChanges(body: unknown, draft: 4 | 10): Change[] {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  const changes: Change[] = [];
  for (const raw of body as unknown[]) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('Operations must be JSON objects.');
    const rec = raw as Record<string, unknown>;
    const { op, pointer } = operation(rec, draft);
    const path = decodePointer(pointer);
    const root = path[0] ?? '';
    const depth = root === 'locations' ? { add: 2, remove: 2, replace: 1 }[op] : 1;
    if (path.length !== depth) throw badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const change: Change = { op, path, draft };
    if (op !== 'remove') {
      if (!('value' in rec)) throw badRequest(`Operation "${op}" requires a member named "value".`);
      change.value = rec.value;
    }
    if (READONLY.has(root)) throw readOnly(root);
    if (RESERVED.has(root) || root.startsWith(RESERVED_NAMESPACE)) throw reserved(root);
    if (op !== 'remove' && path.length === 1) {
      const err = validateImageDoc({ [root]: change.value });
      if (err) throw err;
    }
    changes.push(change);
  }
  return changes;
}

