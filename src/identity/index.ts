import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import { ServiceError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { Enforcer } from '../policy/engine.js';
import { loadPolicyOverrides } from '../policy/file.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import { DEFAULT_SERVICES, type CatalogService } from './catalog.js';
import { AUTH_REQUIRED, keystoneBody } from './errors.js';
import { Http } from './http.js';
import { noauthTokens } from './noauth.js';
import { identityOverrides, identityPolicies } from './policies.js';
import { seed } from './seed.js';
import { IdentityStore } from './store.js';
import { TokenService } from './tokens.js';
import type { TokenValidator } from './types.js';

export interface SeededAccount {
  /** clouds.yaml entry name, e.g. stratus-demo. */
  cloud: string;
  username: string;
  password: string;
  projectName: string;
  projectId: string;
  userId: string;
}

export interface Identity {
  tokens: TokenValidator;
  /** Fastify plugin serving Keystone v3 under /identity. */
  plugin: (app: FastifyInstance) => Promise<void>;
  /** The seeded accounts (admin, demo, alt_demo), for clouds.yaml and the start banner. */
  accounts: SeededAccount[];
  /** Issues a project-scoped token for a seeded user name (tests and tools). */
  issueToken(username: string): Promise<string>;
  /** Revokes a Keystone token (no-op in noauth mode). */
  revokeToken(token: string): Promise<void>;
  /** The Keystone data and token layers (also in noauth mode, where compute ignores them). */
  store: IdentityStore;
  keystoneTokens: TokenService;
}

export interface IdentityDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
  /** The catalog's services; default DEFAULT_SERVICES (compute, image, identity). */
  services?: CatalogService[];
}

export type { CatalogService } from './catalog.js';
export { DEFAULT_SERVICES } from './catalog.js';

/**
 * Keystone v3 (the subset OpenStack clients use): password and token
 * authentication, project- and domain-scoped tokens with a service catalog,
 * and admin CRUD of domains, projects, users, roles and assignments. Seeds the
 * default domain, role ladder, bootstrap projects and the three accounts.
 */
export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  const { db, config, clock, log } = deps;
  const store = new IdentityStore(db, clock);
  const keystoneTokens = new TokenService(db, store, clock, config.auth.token_ttl_seconds);
  const accounts = await seed(store, keystoneTokens, config);
  await keystoneTokens.purgeExpired();
  const enforcer = new Enforcer(identityPolicies, identityOverrides(loadPolicyOverrides(config.policy_file)));
  const http = new Http({ store, tokens: keystoneTokens, config, log, services: deps.services ?? DEFAULT_SERVICES, enforcer });
  const noauth = config.auth.mode === 'noauth';

  const plugin = async (app: FastifyInstance): Promise<void> => {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      let status: number;
      let body: unknown;
      let headers: Record<string, string> = {};
      if (err instanceof ServiceError) {
        status = err.status;
        body = err.body;
        headers = err.headers;
      } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        status = 413;
        body = keystoneBody(413, 'Request is too large.');
      } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        status = 415;
        body = keystoneBody(415, 'The request has an unsupported media type.');
      } else if (err instanceof SyntaxError || (err.statusCode === 400 && err.validation === undefined)) {
        status = 400;
        body = keystoneBody(400, 'Malformed request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
      } else {
        req.log.error({ err }, 'unexpected identity error');
        status = 500;
        body = keystoneBody(500, 'An unexpected error prevented the server from fulfilling your request.');
      }
      if (status === 401) headers = { 'www-authenticate': `Keystone uri="${http.base(req)}/identity"`, ...headers };
      return http.send(reply, status, body, headers);
    });
    app.setNotFoundHandler((_req, reply) => http.send(reply, 404, keystoneBody(404, 'The resource could not be found.')));
    registerAuthRoutes(app, http);
    registerAdminRoutes(app, http);
    return Promise.resolve();
  };

  const account = (username: string): SeededAccount => {
    const a = accounts.find((x) => x.username === username);
    if (!a) throw new Error(`no seeded account ${username}`);
    return a;
  };

  return {
    tokens: noauth ? noauthTokens : keystoneTokens,
    plugin,
    accounts,
    store,
    keystoneTokens,
    async issueToken(username) {
      const a = account(username);
      if (noauth) return `${a.username}:${a.projectId}`;
      const info = await keystoneTokens.issue({ userId: a.userId, scope: { project: a.projectId }, methods: ['password'] });
      if (!info) throw new Error(`cannot issue a token for ${username}: ${AUTH_REQUIRED}`);
      return info.id;
    },
    async revokeToken(token) {
      await keystoneTokens.revoke(token);
    },
  };
}
