import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { baseUrl } from '../api/compute.js';
import type { RequestContext } from '../context.js';
import type { TokenValidator } from '../identity/types.js';
import { GlanceError, renderFault } from './errors.js';
import { callerOf, imageView, memberView, type Caller } from './model.js';
import { mediaType, parseChanges, patchDraft } from './patch.js';
import { parseListQuery, type Query } from './query.js';
import { SCHEMAS } from './schemas.js';
import type { GlanceService } from './service.js';

export interface ImageRouteDeps {
  glance: GlanceService;
  tokens: TokenValidator;
  /** Largest upload accepted by the data routes, in bytes. */
  maxImageBytes: number;
}

/** Versions a current Glance advertises (cache and multi-store enabled), newest first. */
export const IMAGE_API_VERSIONS = [
  '2.16', '2.15', '2.14', '2.13', '2.12', '2.11', '2.10', '2.9', '2.8', '2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0',
];

export const IMPORT_METHODS = ['glance-direct'];

function versions(req: FastifyRequest): Record<string, unknown>[] {
  const href = `${baseUrl(req)}/image/v2/`;
  return IMAGE_API_VERSIONS.map((v, i) => ({
    id: `v${v}`,
    status: i === 0 ? 'CURRENT' : 'SUPPORTED',
    links: [{ rel: 'self', href }],
  }));
}

/** Routes that exist, for telling 405 from 404. */
const KNOWN: [RegExp, string[]][] = [
  [/^\/v2\/images$/, ['GET', 'POST']],
  [/^\/v2\/images\/[^/]+$/, ['GET', 'PATCH', 'DELETE']],
  [/^\/v2\/images\/[^/]+\/file$/, ['GET', 'PUT']],
  [/^\/v2\/images\/[^/]+\/stage$/, ['PUT']],
  [/^\/v2\/images\/[^/]+\/import$/, ['POST']],
  [/^\/v2\/images\/[^/]+\/actions\/(deactivate|reactivate)$/, ['POST']],
  [/^\/v2\/images\/[^/]+\/tags\/[^/]+$/, ['PUT', 'DELETE']],
  [/^\/v2\/images\/[^/]+\/members$/, ['GET', 'POST']],
  [/^\/v2\/images\/[^/]+\/members\/[^/]+$/, ['GET', 'PUT', 'DELETE']],
  [/^\/v2\/schemas\/[^/]+$/, ['GET']],
  [/^\/v2\/info\/import$/, ['GET']],
];

function sendJson(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type('application/json').send(JSON.stringify(body));
}

function sendFault(req: FastifyRequest, reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}): FastifyReply {
  const f = renderFault(status, message, req.headers.accept, headers);
  return reply.code(f.status).headers(f.headers).type(f.contentType).send(f.body);
}

/** keystonemiddleware's rejection of a request without a valid token. */
function sendUnauthorized(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };
  return reply
    .code(401)
    .header('www-authenticate', `Keystone uri="${baseUrl(req)}/identity"`)
    .type('application/json; charset=UTF-8')
    .send(JSON.stringify(body));
}

/** The path below the plugin prefix, without the query string. */
function localPath(req: FastifyRequest): string {
  const path = (req.url.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
  const rest = path.replace(/^\/image/, '');
  return rest.length > 1 ? rest.replace(/\/$/, '') : rest;
}

function rawQuery(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i + 1);
}

/** An empty stream for an upload without a body. */
async function* nothing(): AsyncIterable<Uint8Array> {
  // yields nothing
}

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array> {
  return v !== null && typeof v === 'object' && Symbol.asyncIterator in v;
}

/** Thrown by hooks that run before the handler when the token is missing or invalid. */
class AuthRequired extends Error {}

type Handler = (req: FastifyRequest, reply: FastifyReply, caller: Caller, ctx: RequestContext) => Promise<unknown>;

export function imageRoutes(deps: ImageRouteDeps) {
  const { glance } = deps;
  return async function plugin(app: FastifyInstance): Promise<void> {
    // Image data arrives as a raw stream; the handlers consume it.
    app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

    app.setErrorHandler((err: FastifyError | GlanceError, req, reply) => {
      if (err instanceof AuthRequired) return sendUnauthorized(req, reply);
      if (err instanceof GlanceError) return sendFault(req, reply, err.status, err.message, err.headers);
      const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
      if (status >= 500) {
        req.log.error({ err }, 'unexpected error in image API');
        return sendFault(req, reply, 500, 'The server has either erred or is incapable of performing the requested operation.');
      }
      if (status === 415 && req.method === 'PATCH') {
        const allowed = 'application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch';
        return sendFault(req, reply, 415, `Image PATCH expects Content-Type one of: ${allowed}`, { 'Accept-Patch': allowed });
      }
      if (status === 415) return sendFault(req, reply, 415, `Invalid content type ${mediaType(req.headers['content-type']) || 'None'}`);
      if (status === 413) return sendFault(req, reply, 413, 'The request body is too large.');
      if (status === 400 && (err instanceof SyntaxError || err.code?.startsWith('FST_ERR_CTP') === true)) {
        return sendFault(req, reply, 400, 'Malformed JSON in request body.');
      }
      return sendFault(req, reply, status, err.message);
    });

    app.setNotFoundHandler(async (req, reply) => {
      const path = localPath(req);
      if (path.startsWith('/v2')) {
        const ctx = await deps.tokens.contextFor(req.headers['x-auth-token'] as string | undefined, req.id);
        if (!ctx) return sendUnauthorized(req, reply);
      }
      const known = KNOWN.find(([re]) => re.test(path));
      if (known) return sendFault(req, reply, 405, 'The method specified is not allowed for this resource.', { Allow: known[1].join(', ') });
      return sendFault(req, reply, 404, 'The resource could not be found.');
    });

    app.get('/', (req, reply) => sendJson(reply, 300, { versions: versions(req) }));
    app.get('/versions', (req, reply) => sendJson(reply, 200, { versions: versions(req) }));
    app.get('/v2', (req, reply) => sendJson(reply, 200, { versions: versions(req) }));

    const route = (
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      handler: Handler,
      opts: { bodyLimit?: number; onRequest?: (req: FastifyRequest) => Promise<void> } = {},
    ) =>
      app.route({
        method,
        url,
        ...opts,
        handler: async (req, reply) => {
          const ctx = await deps.tokens.contextFor(req.headers['x-auth-token'] as string | undefined, req.id);
          if (!ctx) return sendUnauthorized(req, reply);
          return handler(req, reply, callerOf(ctx), ctx);
        },
      });
    const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? '';
    const uploadBody = (req: FastifyRequest): AsyncIterable<Uint8Array> => {
      if (mediaType(req.headers['content-type']) !== 'application/octet-stream') {
        throw new GlanceError(415, `Invalid content type ${mediaType(req.headers['content-type']) || 'None'}`);
      }
      return isAsyncIterable(req.body) ? req.body : nothing();
    };
    /** A JSON request body; raw data streams (octet-stream) are not JSON. */
    const jsonBody = (req: FastifyRequest): unknown => {
      if (isAsyncIterable(req.body)) throw new GlanceError(415, `Invalid content type ${mediaType(req.headers['content-type'])}`);
      return req.body;
    };
    // Data routes refuse other media types before Fastify would buffer and parse the body.
    const dataLimit = {
      bodyLimit: deps.maxImageBytes,
      onRequest: async (req: FastifyRequest) => {
        if (mediaType(req.headers['content-type']) === 'application/octet-stream') return;
        const ctx = await deps.tokens.contextFor(req.headers['x-auth-token'] as string | undefined, req.id);
        if (!ctx) throw new AuthRequired();
        throw new GlanceError(415, `Invalid content type ${mediaType(req.headers['content-type']) || 'None'}`);
      },
    };

    // ---- schemas and discovery ----
    route('GET', '/v2/schemas/:name', async (req, reply) => {
      const name = param(req, 'name');
      const make = Object.hasOwn(SCHEMAS, name) ? SCHEMAS[name] : undefined;
      if (!make) return sendFault(req, reply, 404, 'The resource could not be found.');
      return sendJson(reply, 200, make());
    });
    route('GET', '/v2/info/import', async (_req, reply) =>
      sendJson(reply, 200, { 'import-methods': { description: 'Import methods available.', type: 'array', value: IMPORT_METHODS } }),
    );

    // ---- images ----
    route('GET', '/v2/images', async (req, reply, caller) => {
      const params = parseListQuery(req.query as Query);
      const { images, nextMarker } = await glance.list(caller, params);
      const qs = new URLSearchParams(rawQuery(req));
      qs.delete('marker');
      const first = qs.toString();
      const body: Record<string, unknown> = {
        images: images.map(imageView),
        first: first ? `/v2/images?${first}` : '/v2/images',
        schema: '/v2/schemas/images',
      };
      if (nextMarker !== undefined) {
        qs.set('marker', nextMarker);
        body.next = `/v2/images?${qs.toString()}`;
      }
      return sendJson(reply, 200, body);
    });
    route('POST', '/v2/images', async (req, reply, caller) => {
      const img = await glance.create(caller, jsonBody(req));
      return sendJson(reply, 201, imageView(img), {
        Location: `${baseUrl(req)}/image/v2/images/${img.row.id}`,
        'OpenStack-image-import-methods': IMPORT_METHODS.join(','),
      });
    });
    route('GET', '/v2/images/:id', async (req, reply, caller) => {
      const img = await glance.lookup(param(req, 'id'), caller);
      return sendJson(reply, 200, imageView(img));
    });
    route('PATCH', '/v2/images/:id', async (req, reply, caller) => {
      const draft = patchDraft(req.headers['content-type']);
      const changes = parseChanges(jsonBody(req), draft);
      const img = await glance.update(caller, param(req, 'id'), changes);
      return sendJson(reply, 200, imageView(img));
    });
    route('DELETE', '/v2/images/:id', async (req, reply, caller) => {
      await glance.delete(caller, param(req, 'id'));
      return reply.code(204).send();
    });

    // ---- data ----
    route(
      'PUT',
      '/v2/images/:id/file',
      async (req, reply, caller) => {
        const body = uploadBody(req);
        await glance.upload(caller, param(req, 'id'), body);
        return reply.code(204).send();
      },
      dataLimit,
    );
    route(
      'PUT',
      '/v2/images/:id/stage',
      async (req, reply, caller) => {
        const body = uploadBody(req);
        await glance.stage(caller, param(req, 'id'), body);
        return reply.code(204).send();
      },
      dataLimit,
    );
    route('POST', '/v2/images/:id/import', async (req, reply, caller) => {
      await glance.importImage(caller, param(req, 'id'), jsonBody(req));
      return reply.code(202).send();
    });
    route('GET', '/v2/images/:id/file', async (req, reply, caller) => {
      const range = req.headers.range;
      const dl = await glance.download(caller, param(req, 'id'), typeof range === 'string' ? range : undefined);
      if (dl.status === 204) return reply.code(204).send();
      if (dl.status === 416) {
        return sendFault(req, reply, 416, 'The Range requested is not available.', { 'Content-Range': dl.contentRange });
      }
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(dl.length) };
      if (dl.checksum) headers['content-md5'] = dl.checksum;
      if (dl.contentRange) headers['content-range'] = dl.contentRange;
      return reply.code(dl.status).headers(headers).send(dl.stream);
    });

    // ---- actions ----
    route('POST', '/v2/images/:id/actions/deactivate', async (req, reply, caller) => {
      await glance.deactivate(caller, param(req, 'id'));
      return reply.code(204).send();
    });
    route('POST', '/v2/images/:id/actions/reactivate', async (req, reply, caller) => {
      await glance.reactivate(caller, param(req, 'id'));
      return reply.code(204).send();
    });

    // ---- tags (a wildcard: tags may be longer than the router's parameter limit) ----
    route('PUT', '/v2/images/:id/tags/*', async (req, reply, caller) => {
      await glance.addTag(caller, param(req, 'id'), param(req, '*'));
      return reply.code(204).send();
    });
    route('DELETE', '/v2/images/:id/tags/*', async (req, reply, caller) => {
      await glance.deleteTag(caller, param(req, 'id'), param(req, '*'));
      return reply.code(204).send();
    });

    // ---- members ----
    route('GET', '/v2/images/:id/members', async (req, reply, caller) => {
      const members = await glance.listMembers(caller, param(req, 'id'));
      return sendJson(reply, 200, { members: members.map(memberView), schema: '/v2/schemas/members' });
    });
    route('POST', '/v2/images/:id/members', async (req, reply, caller) => {
      const m = await glance.addMember(caller, param(req, 'id'), jsonBody(req));
      return sendJson(reply, 200, memberView(m));
    });
    route('GET', '/v2/images/:id/members/:member', async (req, reply, caller) => {
      const m = await glance.showMember(caller, param(req, 'id'), param(req, 'member'));
      return sendJson(reply, 200, memberView(m));
    });
    route('PUT', '/v2/images/:id/members/:member', async (req, reply, caller) => {
      const m = await glance.updateMember(caller, param(req, 'id'), param(req, 'member'), jsonBody(req));
      return sendJson(reply, 200, memberView(m));
    });
    route('DELETE', '/v2/images/:id/members/:member', async (req, reply, caller) => {
      await glance.deleteMember(caller, param(req, 'id'), param(req, 'member'));
      return reply.code(204).send();
    });
  };
}
