import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ks } from './errors.js';
import { hasQuery, queryFlag, type Http } from './http.js';
import { hashPassword, verifyPassword } from './password.js';
import type { Domain, User } from './store.js';
import type { Scope, TokenInfo } from './tokens.js';
import { tokenCatalog } from './catalog.js';
import { isObject, pyRepr } from './validate.js';

const VERSION_UPDATED = '2020-04-07T00:00:00Z';

function versionDoc(http: Http, req: FastifyRequest): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: VERSION_UPDATED,
    links: [{ rel: 'self', href: `${http.base(req)}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

const VARY = { vary: 'X-Auth-Token' };

let dummy: Promise<string> | undefined;
const dummyHash = (): Promise<string> => (dummy ??= hashPassword(randomBytes(16).toString('hex')));

/** Finds a domain from `{id}` or `{name}`; null when there is none. */
async function findDomain(http: Http, ref: unknown, where: string): Promise<Domain | null> {
  if (!isObject(ref)) throw ks.expecting('domain', where);
  if (typeof ref.id === 'string') return http.store.getDomain(ref.id);
  if (typeof ref.name === 'string') return http.store.getDomainByName(ref.name);
  throw ks.expecting('id or name', 'domain');
}

/** The password method: a user by id, or by name within a domain, and a password. */
async function passwordMethod(http: Http, data: Record<string, unknown>): Promise<User> {
  const u = data.user;
  if (!isObject(u)) throw ks.expecting('user', 'password');
  let user: User | null;
  if (typeof u.id === 'string') {
    user = await http.store.getUser(u.id);
  } else if (typeof u.name === 'string') {
    if (u.domain === undefined) throw ks.expecting('domain', 'user');
    const domain = await findDomain(http, u.domain, 'user');
    if (!domain?.enabled) throw ks.unauthorized();
    user = await http.store.getUserByName(u.name, domain.id);
  } else {
    throw ks.expecting('id or name', 'user');
  }
  if (typeof u.password !== 'string') throw ks.unauthorized();
  if (!user) {
    // Spend the same time as a real check, so that response times do not tell which users exist.
    await verifyPassword(u.password, await dummyHash());
    throw ks.unauthorized();
  }
  if (!(await verifyPassword(u.password, user.passwordHash)) || !user.enabled) throw ks.unauthorized();
  const domain = await http.store.getDomain(user.domainId);
  if (!domain?.enabled) throw ks.unauthorized();
  return user;
}

/** Reads `auth.scope`: a project, a domain, the word `unscoped`, or nothing (undefined). */
async function readScope(http: Http, scope: unknown): Promise<Scope | undefined> {
  if (scope === undefined) return undefined;
  if (scope === 'unscoped') return null;
  if (!isObject(scope)) throw ks.invalidInput('scope', `${pyRepr(scope)} is not of type 'object'`);
  const kinds = ['project', 'domain', 'system', 'OS-TRUST:trust'].filter((k) => scope[k] !== undefined);
  if (kinds.length > 1) throw ks.badRequest('Specify a domain or project, not both');
  if (kinds.length === 0) throw ks.invalidInput('scope', `${pyRepr(scope)} does not have enough properties`);
  if (scope.project !== undefined) {
    const p = scope.project;
    if (!isObject(p)) throw ks.expecting('project', 'scope');
    if (typeof p.id === 'string') {
      const project = await http.store.getProject(p.id);
      if (!project) throw ks.unauthorized();
      return { project: project.id };
    }
    if (typeof p.name !== 'string') throw ks.expecting('id or name', 'project');
    if (p.domain === undefined) throw ks.expecting('domain', 'project');
    const domain = await findDomain(http, p.domain, 'project');
    if (!domain) throw ks.unauthorized();
    const project = await http.store.getProjectByName(p.name, domain.id);
    if (!project) throw ks.unauthorized();
    return { project: project.id };
  }
  if (scope.domain !== undefined) {
    const domain = await findDomain(http, scope.domain, 'scope');
    if (!domain) throw ks.unauthorized();
    return { domain: domain.id };
  }
  // System scope and trusts are not offered.
  throw ks.unauthorized();
}

/** POST /v3/auth/tokens: authenticates (password and/or token) and issues a scoped or unscoped token. */
async function authenticate(http: Http, body: unknown): Promise<TokenInfo> {
  if (!isObject(body)) throw ks.invalidInput('request body', `${pyRepr(body)} is not of type 'object'`);
  const auth = body.auth;
  if (!isObject(auth)) throw auth === undefined ? ks.expecting('auth', 'request body') : ks.invalidInput('auth', `${pyRepr(auth)} is not of type 'object'`);
  const identity = auth.identity;
  if (!isObject(identity)) throw ks.expecting('identity', 'auth');
  const methods = identity.methods;
  if (!Array.isArray(methods)) throw ks.invalidInput('identity', "'methods' is a required property");
  if (methods.length === 0 || !methods.every((m): m is string => typeof m === 'string')) {
    throw ks.invalidInput('identity.methods', `${pyRepr(methods)} is not a valid list of method names`);
  }
  for (const m of methods) {
    // Keystone only tells 'Attempted to authenticate with an unsupported method.' in debug mode.
    if (m !== 'password' && m !== 'token') throw ks.unauthorized();
    if (!isObject(identity[m])) throw ks.expecting(m, 'identity');
  }
  const scope = await readScope(http, auth.scope);

  let userId: string | null = null;
  let parent: TokenInfo | undefined;
  const tokenMethods: string[] = [];
  for (const m of new Set(methods)) {
    const data = identity[m] as Record<string, unknown>;
    let who: string;
    if (m === 'password') {
      who = (await passwordMethod(http, data)).id;
      tokenMethods.push('password');
    } else {
      if (typeof data.id !== 'string') throw ks.expecting('id', 'token');
      parent = (await http.tokens.validate(data.id)) ?? undefined;
      if (!parent) throw ks.unauthorized();
      who = parent.user.id;
      tokenMethods.push(...parent.methods, 'token');
    }
    if (userId !== null && userId !== who) throw ks.unauthorized();
    userId = who;
  }
  if (userId === null) throw ks.unauthorized();
  const finalMethods = [...new Set(tokenMethods)];

  if (scope === undefined) {
    // No scope: the user's default project when it works out, else unscoped.
    const user = await http.store.getUser(userId);
    if (user?.defaultProjectId) {
      const scoped = await http.tokens.issue({ userId, scope: { project: user.defaultProjectId }, methods: finalMethods, ...(parent ? { parent } : {}) });
      if (scoped) return scoped;
    }
  }
  const info = await http.tokens.issue({ userId, scope: scope ?? null, methods: finalMethods, ...(parent ? { parent } : {}) });
  if (!info) throw ks.unauthorized();
  return info;
}

export function registerAuthRoutes(app: FastifyInstance, http: Http): void {
  app.get('/', (req, reply) => http.send(reply, 300, { versions: { values: [versionDoc(http, req)] } }));
  app.get('/v3', (req, reply) => http.send(reply, 200, { version: versionDoc(http, req) }));

  app.post('/v3/auth/tokens', async (req, reply) => {
    const info = await authenticate(http, req.body);
    return http.send(reply, 201, http.tokenBody(req, info, !hasQuery(req.query, 'nocatalog')), { 'x-subject-token': info.id, ...VARY });
  });

  const subject = async (req: FastifyRequest, action: string): Promise<TokenInfo> => {
    const caller = await http.caller(req);
    const id = req.headers['x-subject-token'];
    if (typeof id !== 'string' || id === '') throw ks.expecting('X-Subject-Token', 'headers');
    const allowExpired = queryFlag(req.query, 'allow_expired');
    const info = await http.tokens.validate(id, { allowExpired });
    if (!info) throw ks.tokenNotFound();
    http.enforce(action, caller, { 'target.token.user_id': info.user.id });
    return info;
  };

  app.route({
    method: ['GET', 'HEAD'],
    url: '/v3/auth/tokens',
    handler: async (req, reply) => {
      const head = req.method === 'HEAD';
      const info = await subject(req, head ? 'identity:check_token' : 'identity:validate_token');
      const headers = { 'x-subject-token': info.id, ...VARY };
      if (head) return http.send(reply, 200, undefined, headers);
      return http.send(reply, 200, http.tokenBody(req, info, !hasQuery(req.query, 'nocatalog')), headers);
    },
  });

  app.delete('/v3/auth/tokens', async (req, reply) => {
    const info = await subject(req, 'identity:revoke_token');
    await http.tokens.revoke(info.id);
    return http.send(reply, 204, undefined, VARY);
  });

  app.get('/v3/auth/catalog', async (req, reply) => {
    const caller = await http.authorize(req, 'identity:get_auth_catalog');
    if (!caller.project && !caller.domain) throw ks.forbiddenMessage('A project-scoped token is required to produce a service catalog.');
    return http.send(reply, 200, { catalog: tokenCatalog(http.services(req)), links: { self: `${http.base(req)}${req.url}` } });
  });

  app.get('/v3/auth/projects', async (req, reply) => {
    const caller = await http.authorize(req, 'identity:get_auth_projects');
    const ids = await http.store.targetsOf(caller.user.id, 'project');
    const projects = (await http.store.listProjects({ ids, enabled: true })).map((p) => http.project(req, p));
    return http.send(reply, 200, { projects, links: http.links(req) });
  });

  app.get('/v3/auth/domains', async (req, reply) => {
    const caller = await http.authorize(req, 'identity:get_auth_domains');
    const ids = new Set(await http.store.targetsOf(caller.user.id, 'domain'));
    const domains = (await http.store.listDomains({ enabled: true })).filter((d) => ids.has(d.id)).map((d) => http.domain(req, d));
    return http.send(reply, 200, { domains, links: http.links(req) });
  });

  app.get('/v3/auth/system', async (req, reply) => {
    await http.authorize(req, 'identity:get_auth_system');
    return http.send(reply, 200, { system: [], links: http.links(req) });
  });
}
