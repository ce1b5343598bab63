import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ks, ksError } from './errors.js';
import { hasQuery, q1, queryFlag, type Http } from './http.js';
import { hashPassword, verifyPassword } from './password.js';
import type { Assignment, Domain, Project, Role, TargetType, User } from './store.js';
import type { TokenInfo } from './tokens.js';
import { checkFields, entityOf, extras, queryBool, type FieldSpec } from './validate.js';

type Params = Record<string, string>;
const params = (req: FastifyRequest): Params => req.params as Params;

const DOMAIN_FIELDS: Record<string, FieldSpec> = {
  name: { type: 'string', min: 1, max: 64, required: true },
  description: { type: 'nullable-string' },
  enabled: { type: 'boolean' },
  tags: { type: 'tags' },
  options: { type: 'object' },
};
const PROJECT_FIELDS: Record<string, FieldSpec> = {
  name: { type: 'string', min: 1, max: 64, required: true },
  domain_id: { type: 'nullable-string' },
  parent_id: { type: 'nullable-string' },
  description: { type: 'nullable-string' },
  enabled: { type: 'boolean' },
  is_domain: { type: 'boolean' },
  tags: { type: 'tags' },
  options: { type: 'object' },
};
const USER_FIELDS: Record<string, FieldSpec> = {
  name: { type: 'string', min: 1, max: 255, required: true },
  domain_id: { type: 'nullable-string' },
  password: { type: 'nullable-string' },
  enabled: { type: 'boolean' },
  default_project_id: { type: 'nullable-string' },
  options: { type: 'object' },
};
const ROLE_FIELDS: Record<string, FieldSpec> = {
  name: { type: 'string', min: 1, max: 255, required: true },
  domain_id: { type: 'nullable-string' },
  description: { type: 'nullable-string' },
  options: { type: 'object' },
};
const READONLY = ['id', 'links'];

/** Keystone's default domain for a new entity: the caller's scope's domain, else `default`. */
function callerDomain(caller: TokenInfo): string {
  return caller.project?.domain.id ?? caller.domain?.id ?? 'default';
}

const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
const enabledFilter = (req: FastifyRequest): boolean | undefined => {
  const v = q1(req.query, 'enabled');
  return v === undefined ? undefined : queryBool(v);
};

export function registerAdminRoutes(app: FastifyInstance, http: Http): void {
  const { store, tokens } = http;

  const mustDomain = async (id: string): Promise<Domain> => (await store.getDomain(id)) ?? Promise.reject(ks.notFound('domain', id));
  const mustProject = async (id: string): Promise<Project> => (await store.getProject(id)) ?? Promise.reject(ks.notFound('project', id));
  const mustUser = async (id: string): Promise<User> => (await store.getUser(id)) ?? Promise.reject(ks.notFound('user', id));
  const mustRole = async (id: string): Promise<Role> => (await store.getRole(id)) ?? Promise.reject(ks.notFound('role', id));

  /** Revokes the tokens of everyone in a domain (disabled or deleted). */
  const revokeDomain = async (userIds: string[], projectIds: string[]): Promise<void> => {
    for (const u of userIds) await tokens.revokeUser(u);
    for (const p of projectIds) await tokens.revokeProject(p);
  };

  // ---------------- domains ----------------

  app.get('/v3/domains', async (req, reply) => {
    await http.authorize(req, 'identity:list_domains');
    const name = q1(req.query, 'name');
    const domains = await store.listDomains({ ...(name !== undefined ? { name } : {}), ...optEnabled(req) });
    return http.send(reply, 200, { domains: domains.map((d) => http.domain(req, d)), links: http.links(req) });
  });

  app.post('/v3/domains', async (req, reply) => {
    await http.authorize(req, 'identity:create_domain');
    const input = entityOf(req.body, 'domain');
    checkFields('domain', input, DOMAIN_FIELDS, 'create');
    const name = str(input.name, '');
    if (await store.getDomainByName(name)) throw ks.conflict('domain', `Duplicate entry found with name ${name}`);
    const explicit = typeof input.explicit_domain_id === 'string' ? input.explicit_domain_id : undefined;
    if (explicit !== undefined && (await store.getDomain(explicit))) throw ks.conflict('domain', `Duplicate entry found with ID ${explicit}`);
    const d = await store.createDomain({
      ...(explicit !== undefined ? { id: explicit } : {}),
      name,
      description: str(input.description, ''),
      enabled: input.enabled !== false,
      extra: extras(input, [...Object.keys(DOMAIN_FIELDS), 'explicit_domain_id', ...READONLY]),
    });
    return http.send(reply, 201, { domain: http.domain(req, d) });
  });

  app.get('/v3/domains/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_domain', { 'target.domain.id': id });
    return http.send(reply, 200, { domain: http.domain(req, await mustDomain(id)) });
  });

  app.patch('/v3/domains/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:update_domain', { 'target.domain.id': id });
    const input = entityOf(req.body, 'domain');
    checkFields('domain', input, { ...DOMAIN_FIELDS, name: { type: 'string', min: 1, max: 64 } }, 'update');
    const d = await mustDomain(id);
    if (input.id !== undefined && input.id !== id) throw ks.badRequest('Cannot change Domain ID');
    const name = str(input.name, d.name);
    if (name !== d.name && (await store.getDomainByName(name))) throw ks.conflict('domain', `Duplicate entry found with name ${name}`);
    const next: Domain = {
      ...d,
      name,
      description: input.description === undefined ? d.description : str(input.description, ''),
      enabled: typeof input.enabled === 'boolean' ? input.enabled : d.enabled,
      extra: { ...d.extra, ...extras(input, [...Object.keys(DOMAIN_FIELDS), ...READONLY]) },
    };
    await store.updateDomain(id, next);
    if (d.enabled && !next.enabled) {
      const users = await store.listUsers({ domainId: id });
      const projects = await store.listProjects({ domainId: id });
      await revokeDomain(
        users.map((u) => u.id),
        projects.map((p) => p.id),
      );
    }
    return http.send(reply, 200, { domain: http.domain(req, next) });
  });

  app.delete('/v3/domains/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:delete_domain', { 'target.domain.id': id });
    const d = await mustDomain(id);
    if (d.enabled) throw ks.forbiddenMessage('Cannot delete a domain that is enabled, please disable it first.');
    const gone = await store.deleteDomain(id);
    await revokeDomain(gone.userIds, gone.projectIds);
    return http.send(reply, 204);
  });

  // ---------------- projects ----------------

  app.get('/v3/projects', async (req, reply) => {
    await http.authorize(req, 'identity:list_projects');
    const name = q1(req.query, 'name');
    const domainId = q1(req.query, 'domain_id') ?? q1(req.query, 'parent_id');
    if (hasQuery(req.query, 'is_domain') && queryBool(q1(req.query, 'is_domain') ?? '')) {
      return http.send(reply, 200, { projects: [], links: http.links(req) });
    }
    const projects = await store.listProjects({
      ...(name !== undefined ? { name } : {}),
      ...(domainId !== undefined ? { domainId } : {}),
      ...optEnabled(req),
    });
    return http.send(reply, 200, { projects: projects.map((p) => http.project(req, p)), links: http.links(req) });
  });

  app.post('/v3/projects', async (req, reply) => {
    const caller = await http.authorize(req, 'identity:create_project');
    const input = entityOf(req.body, 'project');
    checkFields('project', input, PROJECT_FIELDS, 'create');
    if (input.is_domain === true) throw ks.badRequest('Creating projects that act as domains is not supported.');
    let domainId = typeof input.domain_id === 'string' ? input.domain_id : undefined;
    const parentId = typeof input.parent_id === 'string' ? input.parent_id : undefined;
    if (parentId !== undefined) {
      if (domainId === undefined && (await store.getDomain(parentId))) domainId = parentId;
      if (parentId !== domainId) throw ks.badRequest('Hierarchical projects are not supported: parent_id must be the domain.');
    }
    domainId ??= callerDomain(caller);
    const domain = await store.getDomain(domainId);
    if (!domain) throw ks.notFound('domain', domainId);
    const name = str(input.name, '');
    if (await store.getProjectByName(name, domainId)) {
      throw ks.conflict('project', `Duplicate entry found with name ${name} at domain ID ${domainId}`);
    }
    const p = await store.createProject({
      name,
      domainId,
      description: str(input.description, ''),
      enabled: input.enabled !== false,
      tags: Array.isArray(input.tags) ? (input.tags as string[]) : [],
      extra: extras(input, [...Object.keys(PROJECT_FIELDS), ...READONLY]),
    });
    return http.send(reply, 201, { project: http.project(req, p) });
  });

  app.get('/v3/projects/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_project', { 'target.project.id': id });
    return http.send(reply, 200, { project: http.project(req, await mustProject(id)) });
  });

  app.patch('/v3/projects/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:update_project', { 'target.project.id': id });
    const input = entityOf(req.body, 'project');
    checkFields('project', input, { ...PROJECT_FIELDS, name: { type: 'string', min: 1, max: 64 } }, 'update');
    const p = await mustProject(id);
    if (input.domain_id !== undefined && input.domain_id !== p.domainId) throw ks.badRequest('Cannot change Domain ID');
    if (input.parent_id !== undefined && input.parent_id !== p.domainId) throw ks.badRequest('Cannot change parent_id of project');
    if (input.is_domain !== undefined && input.is_domain !== false) throw ks.badRequest('Cannot change is_domain attribute of project');
    const name = str(input.name, p.name);
    if (name !== p.name && (await store.getProjectByName(name, p.domainId))) {
      throw ks.conflict('project', `Duplicate entry found with name ${name} at domain ID ${p.domainId}`);
    }
    const next: Project = {
      ...p,
      name,
      description: input.description === undefined ? p.description : str(input.description, ''),
      enabled: typeof input.enabled === 'boolean' ? input.enabled : p.enabled,
      tags: Array.isArray(input.tags) ? (input.tags as string[]) : p.tags,
      extra: { ...p.extra, ...extras(input, [...Object.keys(PROJECT_FIELDS), ...READONLY]) },
    };
    await store.updateProject(next);
    if (p.enabled && !next.enabled) await tokens.revokeProject(id);
    return http.send(reply, 200, { project: http.project(req, next) });
  });

  app.delete('/v3/projects/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:delete_project', { 'target.project.id': id });
    await mustProject(id);
    await store.deleteProject(id);
    await tokens.revokeProject(id);
    return http.send(reply, 204);
  });

  // ---------------- users ----------------

  app.get('/v3/users', async (req, reply) => {
    await http.authorize(req, 'identity:list_users');
    const name = q1(req.query, 'name');
    const domainId = q1(req.query, 'domain_id');
    const users = await store.listUsers({
      ...(name !== undefined ? { name } : {}),
      ...(domainId !== undefined ? { domainId } : {}),
      ...optEnabled(req),
    });
    return http.send(reply, 200, { users: users.map((u) => http.user(req, u)), links: http.links(req) });
  });

  app.post('/v3/users', async (req, reply) => {
    const caller = await http.authorize(req, 'identity:create_user');
    const input = entityOf(req.body, 'user');
    checkFields('user', input, USER_FIELDS, 'create');
    const domainId = typeof input.domain_id === 'string' ? input.domain_id : callerDomain(caller);
    if (!(await store.getDomain(domainId))) throw ks.notFound('domain', domainId);
    const name = str(input.name, '');
    if (await store.getUserByName(name, domainId)) throw ks.conflict('user', `Duplicate entry found with name ${name} at domain ID ${domainId}`);
    const defaultProjectId = typeof input.default_project_id === 'string' ? input.default_project_id : null;
    if (defaultProjectId !== null && (await store.getDomain(defaultProjectId))) {
      throw ks.badRequest('The default project of a user cannot be a domain.');
    }
    const u = await store.createUser({
      name,
      domainId,
      enabled: input.enabled !== false,
      passwordHash: typeof input.password === 'string' ? await hashPassword(input.password) : null,
      defaultProjectId,
      extra: extras(input, [...Object.keys(USER_FIELDS), ...READONLY, 'password_expires_at']),
    });
    return http.send(reply, 201, { user: http.user(req, u) });
  });

  app.get('/v3/users/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_user', { 'target.user.id': id });
    return http.send(reply, 200, { user: http.user(req, await mustUser(id)) });
  });

  app.patch('/v3/users/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:update_user', { 'target.user.id': id });
    const input = entityOf(req.body, 'user');
    checkFields('user', input, { ...USER_FIELDS, name: { type: 'string', min: 1, max: 255 } }, 'update');
    const u = await mustUser(id);
    if (input.domain_id !== undefined && input.domain_id !== u.domainId) throw ks.badRequest('Cannot change Domain ID');
    const name = str(input.name, u.name);
    if (name !== u.name && (await store.getUserByName(name, u.domainId))) {
      throw ks.conflict('user', `Duplicate entry found with name ${name} at domain ID ${u.domainId}`);
    }
    const passwordChanged = input.password !== undefined;
    const next: User = {
      ...u,
      name,
      enabled: typeof input.enabled === 'boolean' ? input.enabled : u.enabled,
      passwordHash: !passwordChanged ? u.passwordHash : typeof input.password === 'string' ? await hashPassword(input.password) : null,
      defaultProjectId: input.default_project_id === undefined ? u.defaultProjectId : typeof input.default_project_id === 'string' ? input.default_project_id : null,
      extra: { ...u.extra, ...extras(input, [...Object.keys(USER_FIELDS), ...READONLY, 'password_expires_at']) },
    };
    await store.updateUser(next);
    if (passwordChanged || (u.enabled && !next.enabled)) await tokens.revokeUser(id);
    return http.send(reply, 200, { user: http.user(req, next) });
  });

  app.delete('/v3/users/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:delete_user', { 'target.user.id': id });
    await mustUser(id);
    await store.deleteUser(id);
    await tokens.revokeUser(id);
    return http.send(reply, 204);
  });

  app.post('/v3/users/:id/password', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:change_password', { 'target.user.id': id });
    const input = entityOf(req.body, 'user');
    checkFields('user', input, { password: { type: 'string', required: true }, original_password: { type: 'string', required: true } }, 'create');
    const u = await mustUser(id);
    if (!(await verifyPassword(str(input.original_password, ''), u.passwordHash))) throw ks.unauthorized();
    await store.updateUser({ ...u, passwordHash: await hashPassword(str(input.password, '')) });
    await tokens.revokeUser(id);
    return http.send(reply, 204);
  });

  app.get('/v3/users/:id/projects', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:list_user_projects', { 'target.user.id': id });
    await mustUser(id);
    const ids = await store.targetsOf(id, 'project');
    const name = q1(req.query, 'name');
    const projects = await store.listProjects({ ids, ...(name !== undefined ? { name } : {}), ...optEnabled(req) });
    return http.send(reply, 200, { projects: projects.map((p) => http.project(req, p)), links: http.links(req) });
  });

  app.get('/v3/users/:id/groups', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:list_groups_for_user', { 'target.user.id': id });
    await mustUser(id);
    return http.send(reply, 200, { groups: [], links: http.links(req) });
  });

  // ---------------- roles ----------------

  app.get('/v3/roles', async (req, reply) => {
    await http.authorize(req, 'identity:list_roles');
    const name = q1(req.query, 'name');
    const domainId = q1(req.query, 'domain_id');
    const roles = await store.listRoles({ ...(name !== undefined ? { name } : {}), domainId: domainId ?? null });
    return http.send(reply, 200, { roles: roles.map((r) => http.role(req, r)), links: http.links(req) });
  });

  app.post('/v3/roles', async (req, reply) => {
    await http.authorize(req, 'identity:create_role');
    const input = entityOf(req.body, 'role');
    checkFields('role', input, ROLE_FIELDS, 'create');
    const domainId = typeof input.domain_id === 'string' ? input.domain_id : null;
    if (domainId !== null) await mustDomain(domainId);
    const name = str(input.name, '');
    if (await store.getRoleByName(name, domainId)) throw ks.conflict('role', `Duplicate entry found with name ${name}`);
    const r = await store.createRole({
      name,
      domainId,
      description: str(input.description, ''),
      extra: extras(input, [...Object.keys(ROLE_FIELDS), ...READONLY]),
    });
    return http.send(reply, 201, { role: http.role(req, r) });
  });

  app.get('/v3/roles/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_role', { 'target.role.id': id });
    return http.send(reply, 200, { role: http.role(req, await mustRole(id)) });
  });

  app.patch('/v3/roles/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:update_role', { 'target.role.id': id });
    const input = entityOf(req.body, 'role');
    checkFields('role', input, { ...ROLE_FIELDS, name: { type: 'string', min: 1, max: 255 } }, 'update');
    const r = await mustRole(id);
    if (input.domain_id !== undefined && input.domain_id !== r.domainId) throw ks.badRequest('Cannot change Domain ID');
    const name = str(input.name, r.name);
    if (name !== r.name && (await store.getRoleByName(name, r.domainId))) throw ks.conflict('role', `Duplicate entry found with name ${name}`);
    const next: Role = {
      ...r,
      name,
      description: input.description === undefined ? r.description : str(input.description, ''),
      extra: { ...r.extra, ...extras(input, [...Object.keys(ROLE_FIELDS), ...READONLY]) },
    };
    await store.updateRole(next);
    return http.send(reply, 200, { role: http.role(req, next) });
  });

  app.delete('/v3/roles/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:delete_role', { 'target.role.id': id });
    await mustRole(id);
    await store.deleteRole(id);
    return http.send(reply, 204);
  });

  // ---------------- implied roles ----------------

  const roleRef = (req: FastifyRequest, r: Role) => ({ id: r.id, name: r.name, links: { self: `${http.v3(req)}/roles/${r.id}` } });

  app.get('/v3/roles/:prior/implies', async (req, reply) => {
    const { prior = '' } = params(req);
    await http.authorize(req, 'identity:list_implied_roles');
    const p = await mustRole(prior);
    const implies: unknown[] = [];
    for (const id of await store.impliedBy(p.id)) {
      const r = await store.getRole(id);
      if (r) implies.push(roleRef(req, r));
    }
    return http.send(reply, 200, { role_inference: { prior_role: roleRef(req, p), implies }, links: { self: `${http.base(req)}${req.url}` } });
  });

  app.put('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    const { prior = '', implied = '' } = params(req);
    await http.authorize(req, 'identity:create_implied_role');
    const p = await mustRole(prior);
    const i = await mustRole(implied);
    if (i.name === 'admin') throw ks.forbiddenMessage(`${i.id} cannot be an implied role.`);
    if (await store.implies(i.id, p.id)) throw ks.badRequest(`Cyclic role inference: ${p.id} -> ${i.id}.`);
    await store.addImplication(p.id, i.id);
    return http.send(reply, 201, {
      role_inference: { prior_role: roleRef(req, p), implies: roleRef(req, i) },
      links: { self: `${http.v3(req)}/roles/${p.id}/implies/${i.id}` },
    });
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/v3/roles/:prior/implies/:implied',
    handler: async (req, reply) => {
      const { prior = '', implied = '' } = params(req);
      await http.authorize(req, req.method === 'HEAD' ? 'identity:check_implied_role' : 'identity:get_implied_role');
      const p = await mustRole(prior);
      const i = await mustRole(implied);
      if (!(await store.impliedBy(p.id)).includes(i.id)) throw ks.notFound('implied role', `${p.id}/${i.id}`);
      if (req.method === 'HEAD') return http.send(reply, 204);
      return http.send(reply, 200, {
        role_inference: { prior_role: roleRef(req, p), implies: roleRef(req, i) },
        links: { self: `${http.v3(req)}/roles/${p.id}/implies/${i.id}` },
      });
    },
  });

  app.delete('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    const { prior = '', implied = '' } = params(req);
    await http.authorize(req, 'identity:delete_implied_role');
    const p = await mustRole(prior);
    const i = await mustRole(implied);
    if (!(await store.removeImplication(p.id, i.id))) throw ks.notFound('implied role', `${p.id}/${i.id}`);
    return http.send(reply, 204);
  });

  app.get('/v3/role_inferences', async (req, reply) => {
    await http.authorize(req, 'identity:list_role_inference_rules');
    const byPrior = new Map<string, unknown[]>();
    for (const { priorRoleId, impliedRoleId } of await store.listImplications()) {
      const r = await store.getRole(impliedRoleId);
      if (r) byPrior.set(priorRoleId, [...(byPrior.get(priorRoleId) ?? []), roleRef(req, r)]);
    }
    const inferences: unknown[] = [];
    for (const [prior, implies] of byPrior) {
      const p = await store.getRole(prior);
      if (p) inferences.push({ prior_role: roleRef(req, p), implies });
    }
    return http.send(reply, 200, { role_inferences: inferences, links: http.links(req) });
  });

  // ---------------- grants ----------------

  for (const kind of ['projects', 'domains'] as const) {
    const targetType: TargetType = kind === 'projects' ? 'project' : 'domain';
    const mustTarget = (id: string) => (targetType === 'project' ? mustProject(id) : mustDomain(id));
    const grantOf = async (req: FastifyRequest): Promise<Assignment> => {
      const { target = '', user = '', role = '' } = params(req);
      await mustTarget(target);
      await mustUser(user);
      await mustRole(role);
      return { targetType, targetId: target, actorId: user, roleId: role };
    };
    const missing = (a: Assignment) =>
      ksError(404, `Could not find role assignment with role: ${a.roleId}, user or group: ${a.actorId}, project, domain, or system: ${a.targetId}.`);

    app.get(`/v3/${kind}/:target/users/:user/roles`, async (req, reply) => {
      const { target = '', user = '' } = params(req);
      await http.authorize(req, 'identity:list_grants');
      await mustTarget(target);
      await mustUser(user);
      const roles: unknown[] = [];
      for (const a of await store.listAssignments({ targetType, targetId: target, actorId: user })) {
        const r = await store.getRole(a.roleId);
        if (r) roles.push(http.role(req, r));
      }
      return http.send(reply, 200, { roles, links: http.links(req) });
    });

    app.put(`/v3/${kind}/:target/users/:user/roles/:role`, async (req, reply) => {
      await http.authorize(req, 'identity:create_grant');
      await store.grant(await grantOf(req));
      return http.send(reply, 204);
    });

    app.route({
      method: ['GET', 'HEAD'],
      url: `/v3/${kind}/:target/users/:user/roles/:role`,
      handler: async (req, reply) => {
        await http.authorize(req, 'identity:check_grant');
        const a = await grantOf(req);
        if (!(await store.hasGrant(a))) throw missing(a);
        return http.send(reply, 204);
      },
    });

    app.delete(`/v3/${kind}/:target/users/:user/roles/:role`, async (req, reply) => {
      await http.authorize(req, 'identity:revoke_grant');
      const a = await grantOf(req);
      if (!(await store.revokeGrant(a))) throw missing(a);
      await tokens.revokeGrant(a.actorId, targetType === 'project' ? { project: a.targetId } : { domain: a.targetId });
      return http.send(reply, 204);
    });
  }

  // ---------------- role assignments ----------------

  app.get('/v3/role_assignments', async (req, reply) => {
    const userId = q1(req.query, 'user.id');
    await http.authorize(req, 'identity:list_role_assignments', userId !== undefined ? { 'filter.user.id': userId } : {});
    const projectId = q1(req.query, 'scope.project.id');
    const domainId = q1(req.query, 'scope.domain.id');
    const roleId = q1(req.query, 'role.id');
    const effective = hasQuery(req.query, 'effective') && queryFlag(req.query, 'effective');
    const names = hasQuery(req.query, 'include_names') && queryFlag(req.query, 'include_names');
    const v3 = http.v3(req);
    // No groups and no system assignments exist here.
    if (hasQuery(req.query, 'group.id') || hasQuery(req.query, 'scope.system')) {
      return http.send(reply, 200, { role_assignments: [], links: http.links(req) });
    }
    const filter: Partial<Assignment> = {};
    if (userId !== undefined) filter.actorId = userId;
    if (projectId !== undefined) Object.assign(filter, { targetType: 'project', targetId: projectId });
    else if (domainId !== undefined) Object.assign(filter, { targetType: 'domain', targetId: domainId });
    if (!effective && roleId !== undefined) filter.roleId = roleId;

    const out: unknown[] = [];
    const domainRef = async (id: string) => ({ id, ...(names ? { name: (await store.getDomain(id))?.name ?? '' } : {}) });
    for (const a of await store.listAssignments(filter)) {
      const expanded = effective ? await store.expandRoles([a.roleId]) : [await store.getRole(a.roleId)];
      const targetPath = a.targetType === 'project' ? 'projects' : 'domains';
      for (const r of expanded) {
        if (!r) continue;
        if (roleId !== undefined && r.id !== roleId) continue;
        const role: Record<string, unknown> = { id: r.id };
        if (names) {
          role.name = r.name;
          if (r.domainId !== null) role.domain = await domainRef(r.domainId);
        }
        const user: Record<string, unknown> = { id: a.actorId };
        if (names) {
          const u = await store.getUser(a.actorId);
          if (u) Object.assign(user, { name: u.name, domain: await domainRef(u.domainId) });
        }
        let scope: Record<string, unknown>;
        if (a.targetType === 'project') {
          const project: Record<string, unknown> = { id: a.targetId };
          if (names) {
            const p = await store.getProject(a.targetId);
            if (p) Object.assign(project, { name: p.name, domain: await domainRef(p.domainId) });
          }
          scope = { project };
        } else {
          scope = { domain: await domainRef(a.targetId) };
        }
        const links: Record<string, string> = { assignment: `${v3}/${targetPath}/${a.targetId}/users/${a.actorId}/roles/${a.roleId}` };
        if ('priorRoleId' in r && r.priorRoleId !== undefined) links.prior_role = `${v3}/roles/${r.priorRoleId}`;
        out.push({ scope, role, user, links });
      }
    }
    return http.send(reply, 200, { role_assignments: out, links: http.links(req) });
  });

  // ---------------- catalog: services, endpoints, regions ----------------

  app.get('/v3/services', async (req, reply) => {
    await http.authorize(req, 'identity:list_services');
    const type = q1(req.query, 'type');
    const name = q1(req.query, 'name');
    const services = http
      .services(req)
      .filter((s) => (type === undefined || s.type === type) && (name === undefined || s.name === name))
      .map((s) => serviceBody(http, req, s));
    return http.send(reply, 200, { services, links: http.links(req) });
  });

  app.get('/v3/services/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_service');
    const s = http.services(req).find((x) => x.id === id);
    if (!s) throw ks.notFound('service', id);
    return http.send(reply, 200, { service: serviceBody(http, req, s) });
  });

  const endpoints = (req: FastifyRequest) => http.services(req).flatMap((s) => s.endpoints);
  const endpointBody = (req: FastifyRequest, e: ReturnType<typeof endpoints>[number]) => ({
    id: e.id,
    interface: e.interface,
    region: e.region,
    region_id: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: true,
    links: { self: `${http.v3(req)}/endpoints/${e.id}` },
  });

  app.get('/v3/endpoints', async (req, reply) => {
    await http.authorize(req, 'identity:list_endpoints');
    const iface = q1(req.query, 'interface');
    const serviceId = q1(req.query, 'service_id');
    const regionId = q1(req.query, 'region_id');
    const list = endpoints(req)
      .filter((e) => (iface === undefined || e.interface === iface) && (serviceId === undefined || e.service_id === serviceId))
      .filter((e) => regionId === undefined || e.region_id === regionId)
      .map((e) => endpointBody(req, e));
    return http.send(reply, 200, { endpoints: list, links: http.links(req) });
  });

  app.get('/v3/endpoints/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_endpoint');
    const e = endpoints(req).find((x) => x.id === id);
    if (!e) throw ks.notFound('endpoint', id);
    return http.send(reply, 200, { endpoint: endpointBody(req, e) });
  });

  const regionBody = (req: FastifyRequest) => {
    const id = http.deps.config.region;
    return { id, description: '', parent_region_id: null, links: { self: `${http.v3(req)}/regions/${id}` } };
  };

  app.get('/v3/regions', async (req, reply) => {
    await http.authorize(req, 'identity:list_regions');
    return http.send(reply, 200, { regions: [regionBody(req)], links: http.links(req) });
  });

  app.get('/v3/regions/:id', async (req, reply) => {
    const { id = '' } = params(req);
    await http.authorize(req, 'identity:get_region');
    if (id !== http.deps.config.region) throw ks.notFound('region', id);
    return http.send(reply, 200, { region: regionBody(req) });
  });
}

function optEnabled(req: FastifyRequest): { enabled?: boolean } {
  const e = enabledFilter(req);
  return e === undefined ? {} : { enabled: e };
}

function serviceBody(http: Http, req: FastifyRequest, s: { id: string; type: string; name: string; description: string }): Record<string, unknown> {
  return { id: s.id, type: s.type, name: s.name, description: s.description, enabled: true, links: { self: `${http.v3(req)}/services/${s.id}` } };
}

