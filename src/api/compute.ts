import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../errors.js';
import type { TokenValidator } from '../identity/types.js';
import { toFault, render } from './faults.js';
import { negotiate, versionHeaders, type ApiVersion, type VersionBounds } from './microversion.js';
import type { ComputeRequest, Query, RouteDef } from './route.js';

export interface ComputeEdgeDeps {
  bounds: VersionBounds;
  tokens: TokenValidator;
  routes: RouteDef[];
}

declare module 'fastify' {
  interface FastifyRequest {
    computeVersion?: ApiVersion;
    /** project id found in a legacy /v2.1/{project_id}/... URL. */
    urlProjectId?: string;
  }
}

/** Body limit of Nova's API (osapi_max_request_body_size). */
export const COMPUTE_BODY_LIMIT = 114688;

function versionDoc(bounds: VersionBounds, base: string, which: 'v2.0' | 'v2.1'): Record<string, unknown> {
  const v21 = which === 'v2.1';
  return {
    id: which,
    status: v21 ? 'CURRENT' : 'DEPRECATED',
    version: v21 ? String(bounds.max) : '',
    min_version: v21 ? String(bounds.min) : '',
    updated: v21 ? '2013-07-23T11:33:21Z' : '2011-01-21T11:33:21Z',
    links: [{ rel: 'self', href: `${base}/${which === 'v2.1' ? 'v2.1' : 'v2'}/` }],
  };
}

export function baseUrl(req: FastifyRequest): string {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
  return `${proto}://${String(host)}`;
}

/**
 * The compute API edge: version discovery, microversion negotiation, auth,
 * the route table and Nova fault rendering. Registered under /compute.
 */
export function computeEdge(deps: ComputeEdgeDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const send = (reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}, json?: string) => {
      const req = reply.request;
      const vh = req.computeVersion ? versionHeaders(req.computeVersion) : { vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version' };
      void reply
        .code(status)
        .headers({ ...vh, 'x-compute-request-id': req.id, ...headers });
      if (body === undefined && json === undefined) return reply.send();
      return reply.type('application/json; charset=UTF-8').send(json ?? JSON.stringify(body));
    };

    app.setErrorHandler((err, req, reply) => {
      const fault = toFault(err);
      if (fault.status >= 500) req.log.error({ err }, 'unexpected error');
      return send(reply, fault.status, fault.body, fault.headers);
    });
    app.setNotFoundHandler((_req, reply) => {
      const f = render(404, 'The resource could not be found.');
      return send(reply, f.status, f.body);
    });

    const versions = (req: FastifyRequest) => {
      const base = `${baseUrl(req)}/compute`;
      return [versionDoc(deps.bounds, base, 'v2.0'), versionDoc(deps.bounds, base, 'v2.1')];
    };
    app.get('/', (req, reply) => send(reply, 300, { versions: versions(req) }));
    const v21 = (req: FastifyRequest, reply: FastifyReply) => {
      const doc = versions(req)[1] ?? {};
      const base = `${baseUrl(req)}/compute`;
      return send(reply, 200, {
        version: {
          ...doc,
          links: [
            { rel: 'self', href: `${base}/v2.1/` },
            { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
          ],
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
        },
      });
    };
    app.get('/v2.1', v21);

    for (const route of deps.routes) {
      app.route({
        method: route.method,
        url: `/v2.1${route.path}`,
        handler: async (req, reply) => {
          // Authentication comes first, as keystonemiddleware sits in front of Nova:
          // its 401 has its own body and no version headers.
          const ctx = await deps.tokens.contextFor(req.headers['x-auth-token'] as string | undefined, req.id);
          if (!ctx) {
            return reply
              .code(401)
              .headers({
                'x-compute-request-id': req.id,
                'www-authenticate': `Keystone uri="${baseUrl(req)}/identity"`,
              })
              .type('application/json')
              .send(JSON.stringify({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } }));
          }
          const mv = negotiate(req.headers, deps.bounds);
          req.computeVersion = mv;
          if ((route.min && mv.lt(route.min)) || (route.max && mv.compare(route.max) > 0)) {
            throw notFound('The resource could not be found.');
          }
          if (req.urlProjectId !== undefined && req.urlProjectId !== ctx.projectId) {
            throw new ApiError(
              400,
              `Malformed request URL: URL's project_id '${req.urlProjectId}' doesn't match Context's project_id '${ctx.projectId ?? 'None'}'`,
            );
          }
          const query = req.query as Query;
          route.query?.check(query, mv);
          const body: unknown = req.body;
          if (route.body) route.body.check(body, mv);
          const root = baseUrl(req);
          const creq: ComputeRequest = {
            ctx,
            mv,
            params: req.params as Record<string, string>,
            query,
            body,
            requestId: req.id,
            urls: {
              versioned: `${root}/compute/v2.1${req.urlProjectId ? `/${req.urlProjectId}` : ''}`,
              bookmark: `${root}/compute${req.urlProjectId ? `/${req.urlProjectId}` : ''}`,
            },
          };
          const out = await route.handler(creq);
          return send(reply, out.status, out.body, out.headers, out.json);
        },
      });
    }
  };
}

/** Strips a legacy project id segment: /compute/v2.1/{project_id}/servers -> /compute/v2.1/servers. */
export function rewriteLegacyComputeUrl(url: string, req: { urlProjectId?: string }): string {
  const m = /^\/compute\/v2(?:\.1)?\/([0-9a-fA-F]{32}|[0-9a-fA-F-]{36})(\/.*)?$/.exec(url);
  if (!m || m[1] === undefined) return url;
  req.urlProjectId = m[1];
  return `/compute/v2.1${m[2] ?? ''}`;
}

export const newRequestId = (): string => `req-${randomUUID()}`;
