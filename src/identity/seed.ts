import type { Config } from '../config/index.js';
import type { SeededAccount } from './index.js';
import { hashPassword, verifyPassword } from './password.js';
import type { IdentityStore, Project, Role } from './store.js';
import type { TokenService } from './tokens.js';

export const DEFAULT_DOMAIN_ID = 'default';

/** Global roles, and what each implies (Keystone bootstrap's ladder). */
const ROLES: { name: string; description: string; implies: string[] }[] = [
  { name: 'reader', description: 'Read-only access.', implies: [] },
  { name: 'member', description: 'Read and write access within a project.', implies: ['reader'] },
  { name: 'manager', description: 'Manages a project.', implies: ['member'] },
  { name: 'admin', description: 'Administers the cloud.', implies: ['member'] },
  { name: 'service', description: 'Service users.', implies: [] },
];

const PROJECTS: { name: string; description: string }[] = [
  { name: 'admin', description: 'Bootstrap project for initializing the cloud.' },
  { name: 'service', description: 'Project for service users.' },
  { name: 'demo', description: 'Demo project.' },
  { name: 'alt_demo', description: 'Alternate demo project.' },
];

const USERS: { name: 'admin' | 'demo' | 'alt_demo'; project: string; role: string }[] = [
  { name: 'admin', project: 'admin', role: 'admin' },
  { name: 'demo', project: 'demo', role: 'member' },
  { name: 'alt_demo', project: 'alt_demo', role: 'member' },
];

/**
 * Creates the default domain, the role ladder, the bootstrap projects and
 * the three accounts when missing. Idempotent; a changed configured password
 * replaces the stored hash (and revokes that user's tokens).
 */
export async function seed(store: IdentityStore, tokens: TokenService, config: Config): Promise<SeededAccount[]> {
  if (!(await store.getDomain(DEFAULT_DOMAIN_ID))) {
    await store.createDomain({ id: DEFAULT_DOMAIN_ID, name: 'Default', description: 'The default domain', enabled: true, extra: {} });
  }
  const roles = new Map<string, Role>();
  for (const r of ROLES) {
    roles.set(r.name, (await store.getRoleByName(r.name)) ?? (await store.createRole({ name: r.name, domainId: null, description: r.description, extra: {} })));
  }
  const existing = await store.listImplications();
  for (const r of ROLES) {
    const prior = roles.get(r.name);
    for (const i of r.implies) {
      const implied = roles.get(i);
      if (!prior || !implied) continue;
      if (!existing.some((e) => e.priorRoleId === prior.id && e.impliedRoleId === implied.id)) await store.addImplication(prior.id, implied.id);
    }
  }
  const projects = new Map<string, Project>();
  for (const p of PROJECTS) {
    projects.set(
      p.name,
      (await store.getProjectByName(p.name, DEFAULT_DOMAIN_ID)) ??
        (await store.createProject({ name: p.name, domainId: DEFAULT_DOMAIN_ID, description: p.description, enabled: true, tags: [], extra: {} })),
    );
  }
  const accounts = await Promise.all(
    USERS.map(async (u): Promise<SeededAccount> => {
      const password = config.auth.passwords[u.name];
      const project = projects.get(u.project);
      const role = roles.get(u.role);
      if (!project || !role) throw new Error(`seed: missing project ${u.project} or role ${u.role}`);
      let user = await store.getUserByName(u.name, DEFAULT_DOMAIN_ID);
      if (!user) {
        user = await store.createUser({
          name: u.name,
          domainId: DEFAULT_DOMAIN_ID,
          enabled: true,
          passwordHash: await hashPassword(password),
          defaultProjectId: null,
          extra: {},
        });
      } else if (!(await verifyPassword(password, user.passwordHash))) {
        await store.updateUser({ ...user, passwordHash: await hashPassword(password) });
        await tokens.revokeUser(user.id);
      }
      const grant = { targetType: 'project' as const, targetId: project.id, actorId: user.id, roleId: role.id };
      if (!(await store.hasGrant(grant))) await store.grant(grant);
      return { cloud: `stratus-${u.name}`, username: u.name, password, projectName: project.name, projectId: project.id, userId: user.id };
    }),
  );
  return accounts;
}
