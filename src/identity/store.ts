import { randomUUID } from 'node:crypto';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import { isoMicro } from '../lib/time.js';
import type { DomainsTable, ProjectsTable, RolesTable, UsersTable } from './tables.js';

export type Extra = Record<string, unknown>;

export interface Domain {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  extra: Extra;
}

export interface Project {
  id: string;
  name: string;
  domainId: string;
  description: string;
  enabled: boolean;
  tags: string[];
  extra: Extra;
}

export interface User {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  passwordHash: string | null;
  defaultProjectId: string | null;
  extra: Extra;
}

export interface Role {
  id: string;
  name: string;
  /** null for a global role. */
  domainId: string | null;
  description: string;
  extra: Extra;
}

export type TargetType = 'project' | 'domain';

export interface Assignment {
  targetType: TargetType;
  targetId: string;
  actorId: string;
  roleId: string;
}

export interface EffectiveRole extends Role {
  /** The directly assigned role this one was implied by; absent for a direct assignment. */
  priorRoleId?: string;
}

/** Keystone-style ids: uuid4 hex, no dashes. */
export const newId = (): string => randomUUID().replace(/-/g, '');

function parseJson<T>(text: string, fallback: T): T {
  try {
    const v: unknown = JSON.parse(text);
    return v === null || v === undefined ? fallback : (v as T);
  } catch {
    return fallback;
  }
}

const toDomain = (r: DomainsTable): Domain => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: r.enabled === 1,
  extra: parseJson<Extra>(r.extra, {}),
});
const toProject = (r: ProjectsTable): Project => ({
  id: r.id,
  name: r.name,
  domainId: r.domain_id,
  description: r.description,
  enabled: r.enabled === 1,
  tags: parseJson<string[]>(r.tags, []),
  extra: parseJson<Extra>(r.extra, {}),
});
const toUser = (r: UsersTable): User => ({
  id: r.id,
  name: r.name,
  domainId: r.domain_id,
  enabled: r.enabled === 1,
  passwordHash: r.password_hash,
  defaultProjectId: r.default_project_id,
  extra: parseJson<Extra>(r.extra, {}),
});
const toRole = (r: RolesTable): Role => ({
  id: r.id,
  name: r.name,
  domainId: r.domain_id === '' ? null : r.domain_id,
  description: r.description,
  extra: parseJson<Extra>(r.extra, {}),
});

export interface NameFilter {
  name?: string;
  domainId?: string;
  enabled?: boolean;
}

/**
 * Keystone's resource, identity and assignment backends over one database.
 * Every write notifies the change listeners (the token cache clears itself).
 */
export class IdentityStore {
  private listeners: (() => void)[] = [];
  private rolesById: Map<string, Role> | null = null;
  private implied: Map<string, string[]> | null = null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    this.rolesById = null;
    this.implied = null;
    for (const fn of this.listeners) fn();
  }

  private now(): string {
    return isoMicro(this.clock.now());
  }

  // ---- domains ----

  async getDomain(id: string): Promise<Domain | null> {
    const r = await this.db.selectFrom('domains').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toDomain(r) : null;
  }

  async getDomainByName(name: string): Promise<Domain | null> {
    const r = await this.db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst();
    return r ? toDomain(r) : null;
  }

  async listDomains(f: NameFilter = {}): Promise<Domain[]> {
    let q = this.db.selectFrom('domains').selectAll();
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled ? 1 : 0);
    return (await q.orderBy('name').execute()).map(toDomain);
  }

  async createDomain(d: Omit<Domain, 'id'> & { id?: string }): Promise<Domain> {
    const row: DomainsTable = {
      id: d.id ?? newId(),
      name: d.name,
      description: d.description,
      enabled: d.enabled ? 1 : 0,
      extra: JSON.stringify(d.extra),
      created_at: this.now(),
    };
    await this.db.insertInto('domains').values(row).execute();
    this.changed();
    return toDomain(row);
  }

  async updateDomain(id: string, d: Domain): Promise<void> {
    await this.db
      .updateTable('domains')
      .set({ name: d.name, description: d.description, enabled: d.enabled ? 1 : 0, extra: JSON.stringify(d.extra) })
      .where('id', '=', id)
      .execute();
    this.changed();
  }

  /** Deletes a domain with every project and user in it, and their assignments. */
  async deleteDomain(id: string): Promise<{ userIds: string[]; projectIds: string[] }> {
    const users = await this.db.selectFrom('users').select('id').where('domain_id', '=', id).execute();
    const projects = await this.db.selectFrom('projects').select('id').where('domain_id', '=', id).execute();
    const userIds = users.map((u) => u.id);
    const projectIds = projects.map((p) => p.id);
    await this.db.transaction().execute(async (tx) => {
      if (userIds.length > 0) await tx.deleteFrom('role_assignments').where('actor_id', 'in', userIds).execute();
      if (projectIds.length > 0) {
        await tx.deleteFrom('role_assignments').where('target_type', '=', 'project').where('target_id', 'in', projectIds).execute();
      }
      await tx.deleteFrom('role_assignments').where('target_type', '=', 'domain').where('target_id', '=', id).execute();
      await tx.deleteFrom('users').where('domain_id', '=', id).execute();
      await tx.deleteFrom('projects').where('domain_id', '=', id).execute();
      const roles = await tx.selectFrom('roles').select('id').where('domain_id', '=', id).execute();
      for (const r of roles) await this.deleteRoleIn(tx, r.id);
      await tx.deleteFrom('domains').where('id', '=', id).execute();
    });
    this.changed();
    return { userIds, projectIds };
  }

  // ---- projects ----

  async getProject(id: string): Promise<Project | null> {
    const r = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toProject(r) : null;
  }

  async getProjectByName(name: string, domainId: string): Promise<Project | null> {
    const r = await this.db.selectFrom('projects').selectAll().where('name', '=', name).where('domain_id', '=', domainId).executeTakeFirst();
    return r ? toProject(r) : null;
  }

  async listProjects(f: NameFilter & { ids?: string[] } = {}): Promise<Project[]> {
    if (f.ids !== undefined && f.ids.length === 0) return [];
    let q = this.db.selectFrom('projects').selectAll();
    if (f.ids !== undefined) q = q.where('id', 'in', f.ids);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.domainId !== undefined) q = q.where('domain_id', '=', f.domainId);
    if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled ? 1 : 0);
    return (await q.orderBy('name').orderBy('id').execute()).map(toProject);
  }

  async createProject(p: Omit<Project, 'id'> & { id?: string }): Promise<Project> {
    const row: ProjectsTable = {
      id: p.id ?? newId(),
      name: p.name,
      domain_id: p.domainId,
      description: p.description,
      enabled: p.enabled ? 1 : 0,
      tags: JSON.stringify(p.tags),
      extra: JSON.stringify(p.extra),
      created_at: this.now(),
    };
    await this.db.insertInto('projects').values(row).execute();
    this.changed();
    return toProject(row);
  }

  async updateProject(p: Project): Promise<void> {
    await this.db
      .updateTable('projects')
      .set({ name: p.name, description: p.description, enabled: p.enabled ? 1 : 0, tags: JSON.stringify(p.tags), extra: JSON.stringify(p.extra) })
      .where('id', '=', p.id)
      .execute();
    this.changed();
  }

  async deleteProject(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('role_assignments').where('target_type', '=', 'project').where('target_id', '=', id).execute();
      await tx.updateTable('users').set({ default_project_id: null }).where('default_project_id', '=', id).execute();
      await tx.deleteFrom('projects').where('id', '=', id).execute();
    });
    this.changed();
  }

  // ---- users ----

  async getUser(id: string): Promise<User | null> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toUser(r) : null;
  }

  async getUserByName(name: string, domainId: string): Promise<User | null> {
    const r = await this.db.selectFrom('users').selectAll().where('name', '=', name).where('domain_id', '=', domainId).executeTakeFirst();
    return r ? toUser(r) : null;
  }

  async listUsers(f: NameFilter = {}): Promise<User[]> {
    let q = this.db.selectFrom('users').selectAll();
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.domainId !== undefined) q = q.where('domain_id', '=', f.domainId);
    if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled ? 1 : 0);
    return (await q.orderBy('name').orderBy('id').execute()).map(toUser);
  }

  async createUser(u: Omit<User, 'id'> & { id?: string }): Promise<User> {
    const row: UsersTable = {
      id: u.id ?? newId(),
      name: u.name,
      domain_id: u.domainId,
      enabled: u.enabled ? 1 : 0,
      password_hash: u.passwordHash,
      default_project_id: u.defaultProjectId,
      extra: JSON.stringify(u.extra),
      created_at: this.now(),
    };
    await this.db.insertInto('users').values(row).execute();
    this.changed();
    return toUser(row);
  }

  async updateUser(u: User): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        name: u.name,
        enabled: u.enabled ? 1 : 0,
        password_hash: u.passwordHash,
        default_project_id: u.defaultProjectId,
        extra: JSON.stringify(u.extra),
      })
      .where('id', '=', u.id)
      .execute();
    this.changed();
  }

  async deleteUser(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('role_assignments').where('actor_id', '=', id).execute();
      await tx.deleteFrom('users').where('id', '=', id).execute();
    });
    this.changed();
  }

  // ---- roles ----

  private async roleMap(): Promise<Map<string, Role>> {
    if (!this.rolesById) {
      const rows = await this.db.selectFrom('roles').selectAll().orderBy('name').execute();
      this.rolesById = new Map(rows.map((r) => [r.id, toRole(r)]));
    }
    return this.rolesById;
  }

  async getRole(id: string): Promise<Role | null> {
    return (await this.roleMap()).get(id) ?? null;
  }

  async getRoleByName(name: string, domainId: string | null = null): Promise<Role | null> {
    for (const r of (await this.roleMap()).values()) if (r.name === name && r.domainId === domainId) return r;
    return null;
  }

  async listRoles(f: { name?: string; domainId?: string | null } = {}): Promise<Role[]> {
    const out: Role[] = [];
    for (const r of (await this.roleMap()).values()) {
      if (f.name !== undefined && r.name !== f.name) continue;
      if (f.domainId !== undefined && r.domainId !== f.domainId) continue;
      out.push(r);
    }
    return out;
  }

  async createRole(r: Omit<Role, 'id'> & { id?: string }): Promise<Role> {
    const row: RolesTable = {
      id: r.id ?? newId(),
      name: r.name,
      domain_id: r.domainId ?? '',
      description: r.description,
      extra: JSON.stringify(r.extra),
    };
    await this.db.insertInto('roles').values(row).execute();
    this.changed();
    return toRole(row);
  }

  async updateRole(r: Role): Promise<void> {
    await this.db
      .updateTable('roles')
      .set({ name: r.name, description: r.description, extra: JSON.stringify(r.extra) })
      .where('id', '=', r.id)
      .execute();
    this.changed();
  }

  private async deleteRoleIn(tx: Db, id: string): Promise<void> {
    await tx.deleteFrom('role_assignments').where('role_id', '=', id).execute();
    await tx.deleteFrom('implied_roles').where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)])).execute();
    await tx.deleteFrom('roles').where('id', '=', id).execute();
  }

  async deleteRole(id: string): Promise<void> {
    await this.db.transaction().execute((tx) => this.deleteRoleIn(tx, id));
    this.changed();
  }

  // ---- implied roles ----

  private async impliedMap(): Promise<Map<string, string[]>> {
    if (!this.implied) {
      const rows = await this.db.selectFrom('implied_roles').selectAll().orderBy('prior_role_id').orderBy('implied_role_id').execute();
      const m = new Map<string, string[]>();
      for (const r of rows) m.set(r.prior_role_id, [...(m.get(r.prior_role_id) ?? []), r.implied_role_id]);
      this.implied = m;
    }
    return this.implied;
  }

  async listImplications(): Promise<{ priorRoleId: string; impliedRoleId: string }[]> {
    const out: { priorRoleId: string; impliedRoleId: string }[] = [];
    for (const [prior, implied] of await this.impliedMap()) for (const i of implied) out.push({ priorRoleId: prior, impliedRoleId: i });
    return out;
  }

  async impliedBy(priorRoleId: string): Promise<string[]> {
    return (await this.impliedMap()).get(priorRoleId) ?? [];
  }

  async addImplication(priorRoleId: string, impliedRoleId: string): Promise<void> {
    await this.db
      .insertInto('implied_roles')
      .values({ prior_role_id: priorRoleId, implied_role_id: impliedRoleId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    this.changed();
  }

  async removeImplication(priorRoleId: string, impliedRoleId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('implied_roles')
      .where('prior_role_id', '=', priorRoleId)
      .where('implied_role_id', '=', impliedRoleId)
      .executeTakeFirst();
    this.changed();
    return Number(res.numDeletedRows) > 0;
  }

  /** True when `from` reaches `to` through implications (a new `to -> from` rule would make a cycle). */
  async implies(from: string, to: string): Promise<boolean> {
    const seen = new Set<string>();
    const queue = [from];
    while (queue.length > 0) {
      const cur = queue.shift() ?? '';
      if (cur === to) return true;
      if (seen.has(cur)) continue;
      seen.add(cur);
      queue.push(...(await this.impliedBy(cur)));
    }
    return false;
  }

  /**
   * Expands directly assigned role ids with every role they imply (transitively):
   * direct roles first (by name), then implied ones in discovery order, each role once.
   */
  async expandRoles(directIds: string[]): Promise<EffectiveRole[]> {
    const roles = await this.roleMap();
    const out: EffectiveRole[] = [];
    const seen = new Set<string>();
    const sorted = [...directIds].sort((x, y) => (roles.get(x)?.name ?? x).localeCompare(roles.get(y)?.name ?? y));
    const queue: { id: string; prior?: string }[] = sorted.map((id) => ({ id }));
    while (queue.length > 0) {
      const next = queue.shift();
      if (!next || seen.has(next.id)) continue;
      seen.add(next.id);
      const role = roles.get(next.id);
      if (!role) continue;
      out.push(next.prior === undefined ? role : { ...role, priorRoleId: next.prior });
      for (const i of await this.impliedBy(next.id)) queue.push({ id: i, prior: next.prior ?? next.id });
    }
    return out;
  }

  // ---- assignments ----

  async grant(a: Assignment): Promise<void> {
    await this.db
      .insertInto('role_assignments')
      .values({ target_type: a.targetType, target_id: a.targetId, actor_id: a.actorId, role_id: a.roleId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    this.changed();
  }

  async revokeGrant(a: Assignment): Promise<boolean> {
    const res = await this.db
      .deleteFrom('role_assignments')
      .where('target_type', '=', a.targetType)
      .where('target_id', '=', a.targetId)
      .where('actor_id', '=', a.actorId)
      .where('role_id', '=', a.roleId)
      .executeTakeFirst();
    this.changed();
    return Number(res.numDeletedRows) > 0;
  }

  async hasGrant(a: Assignment): Promise<boolean> {
    const r = await this.db
      .selectFrom('role_assignments')
      .select('role_id')
      .where('target_type', '=', a.targetType)
      .where('target_id', '=', a.targetId)
      .where('actor_id', '=', a.actorId)
      .where('role_id', '=', a.roleId)
      .executeTakeFirst();
    return r !== undefined;
  }

  async listAssignments(f: Partial<Assignment> = {}): Promise<Assignment[]> {
    let q = this.db.selectFrom('role_assignments').selectAll();
    if (f.targetType !== undefined) q = q.where('target_type', '=', f.targetType);
    if (f.targetId !== undefined) q = q.where('target_id', '=', f.targetId);
    if (f.actorId !== undefined) q = q.where('actor_id', '=', f.actorId);
    if (f.roleId !== undefined) q = q.where('role_id', '=', f.roleId);
    const rows = await q.orderBy('actor_id').orderBy('target_type').orderBy('target_id').orderBy('role_id').execute();
    return rows.map((r) => ({ targetType: r.target_type as TargetType, targetId: r.target_id, actorId: r.actor_id, roleId: r.role_id }));
  }

  /** The roles a user holds on a project or domain, implied roles included. */
  async effectiveRoles(userId: string, targetType: TargetType, targetId: string): Promise<EffectiveRole[]> {
    const direct = await this.listAssignments({ actorId: userId, targetType, targetId });
    return this.expandRoles(direct.map((a) => a.roleId));
  }

  /** Ids of the targets of a kind on which a user holds any role. */
  async targetsOf(userId: string, targetType: TargetType): Promise<string[]> {
    const rows = await this.db
      .selectFrom('role_assignments')
      .select('target_id')
      .distinct()
      .where('actor_id', '=', userId)
      .where('target_type', '=', targetType)
      .execute();
    return rows.map((r) => r.target_id);
  }
}
