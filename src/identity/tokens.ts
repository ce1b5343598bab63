import { createHash, randomBytes } from 'node:crypto';
import type { RequestContext } from '../context.js';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import type { IdentityStore, Role, User } from './store.js';
import type { TokensTable } from './tables.js';
import type { TokenValidator } from './types.js';

export interface Ref {
  id: string;
  name: string;
}

/** A validated token, as Keystone renders it (without the catalog). */
export interface TokenInfo {
  /** The opaque token id (what X-Auth-Token carries). */
  id: string;
  methods: string[];
  user: Ref & { domain: Ref };
  project: (Ref & { domain: Ref }) | null;
  domain: Ref | null;
  roles: Ref[];
  auditIds: string[];
  auditChainId: string;
  /** Milliseconds since the epoch, whole seconds. */
  issuedAt: number;
  expiresAt: number;
}

export type Scope = { project: string } | { domain: string } | null;

export interface IssueOptions {
  userId: string;
  scope: Scope;
  methods: string[];
  /** The token a `token` method authentication presented: the new one inherits its expiry and audit chain. */
  parent?: TokenInfo;
}

/** How long a validated token may be served from memory; every identity write clears the cache too. */
const CACHE_MS = 5000;
const CACHE_MAX = 10000;
/** Keystone's allow_expired_window: how long after expiry `allow_expired` still validates. */
export const ALLOW_EXPIRED_MS = 48 * 3600 * 1000;

const hashId = (id: string): string => createHash('sha256').update(id).digest('hex');
const newTokenId = (): string => `gAAAAA${randomBytes(32).toString('base64url')}`;
const newAuditId = (): string => randomBytes(16).toString('base64url');
const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** Keystone's token timestamps: `2026-11-22T15:50:47.000000Z`. */
export function tokenTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${String(ms % 1000).padStart(3, '0')}000Z`);
}

interface CacheEntry {
  info: TokenInfo;
  ctx: Omit<RequestContext, 'requestId'>;
  until: number;
}

/**
 * Issues, validates and revokes opaque bearer tokens. Tokens are stored by
 * the sha256 of their id; roles are resolved from current assignments when a
 * token is validated, and validations are cached in memory for a few seconds
 * (cleared on any identity change and on revocation).
 */
export class TokenService implements TokenValidator {
  private cache = new Map<string, CacheEntry>();
  private issuedSincePurge = 0;

  constructor(
    private readonly db: Db,
    private readonly store: IdentityStore,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    store.onChange(() => this.cache.clear());
  }

  /** Forgets every cached validation. */
  invalidate(): void {
    this.cache.clear();
  }

  /**
   * Resolves what a token for `user` in `scope` carries; null when the scope
   * does not exist, is disabled, or the user holds no role on it.
   */
  private async resolve(user: User, scope: Scope): Promise<Pick<TokenInfo, 'user' | 'project' | 'domain' | 'roles'> | null> {
    const userDomain = await this.store.getDomain(user.domainId);
    if (!user.enabled || !userDomain?.enabled) return null;
    const base = { user: { id: user.id, name: user.name, domain: { id: userDomain.id, name: userDomain.name } } };
    if (scope === null) return { ...base, project: null, domain: null, roles: [] };
    let roles: Role[];
    if ('project' in scope) {
      const project = await this.store.getProject(scope.project);
      if (!project?.enabled) return null;
      const pd = project.domainId === userDomain.id ? userDomain : await this.store.getDomain(project.domainId);
      if (!pd?.enabled) return null;
      roles = await this.store.effectiveRoles(user.id, 'project', project.id);
      if (roles.length === 0) return null;
      return {
        ...base,
        project: { id: project.id, name: project.name, domain: { id: pd.id, name: pd.name } },
        domain: null,
        roles: roles.map((r) => ({ id: r.id, name: r.name })),
      };
    }
    const domain = await this.store.getDomain(scope.domain);
    if (!domain?.enabled) return null;
    roles = await this.store.effectiveRoles(user.id, 'domain', domain.id);
    if (roles.length === 0) return null;
    return { ...base, project: null, domain: { id: domain.id, name: domain.name }, roles: roles.map((r) => ({ id: r.id, name: r.name })) };
  }

  /** Issues a token; null when the user may not have a token for that scope. */
  async issue(opts: IssueOptions): Promise<TokenInfo | null> {
    const user = await this.store.getUser(opts.userId);
    if (!user) return null;
    const resolved = await this.resolve(user, opts.scope);
    if (!resolved) return null;
    const now = wholeSeconds(this.clock.now());
    const id = newTokenId();
    const auditId = newAuditId();
    const parent = opts.parent;
    const row: TokensTable = {
      id_hash: hashId(id),
      user_id: user.id,
      project_id: resolved.project?.id ?? null,
      domain_id: resolved.domain?.id ?? null,
      methods: JSON.stringify(opts.methods),
      audit_id: auditId,
      audit_chain_id: parent ? parent.auditChainId : auditId,
      issued_at: now,
      expires_at: parent ? parent.expiresAt : now + this.ttlSeconds * 1000,
      revoked: 0,
    };
    await this.db.insertInto('tokens').values(row).execute();
    if (++this.issuedSincePurge >= 500) {
      this.issuedSincePurge = 0;
      await this.purgeExpired();
    }
    return this.infoFrom(id, row, resolved);
  }

  private infoFrom(id: string, row: TokensTable, resolved: Pick<TokenInfo, 'user' | 'project' | 'domain' | 'roles'>): TokenInfo {
    return {
      id,
      methods: JSON.parse(row.methods) as string[],
      ...resolved,
      auditIds: row.audit_chain_id === row.audit_id ? [row.audit_id] : [row.audit_id, row.audit_chain_id],
      auditChainId: row.audit_chain_id,
      issuedAt: Number(row.issued_at),
      expiresAt: Number(row.expires_at),
    };
  }

  /** Deletes tokens that cannot validate any more, even with allow_expired. */
  async purgeExpired(): Promise<void> {
    await this.db.deleteFrom('tokens').where('expires_at', '<', this.clock.now() - ALLOW_EXPIRED_MS).execute();
  }

  /**
   * Validates a token: known, not revoked, not expired (unless `allowExpired`
   * and within the window), its user and scope still enabled and holding roles.
   */
  async validate(id: string | undefined, opts: { allowExpired?: boolean } = {}): Promise<TokenInfo | null> {
    if (!id) return null;
    const now = this.clock.now();
    const hit = this.cache.get(id);
    if (hit && now < hit.until) {
      if (now < hit.info.expiresAt) return hit.info;
      if (!opts.allowExpired) return null;
    }
    const entry = await this.load(id, now, opts.allowExpired === true);
    return entry?.info ?? null;
  }

  private async load(id: string, now: number, allowExpired: boolean): Promise<CacheEntry | null> {
    if (id.length > 1024) return null;
    const row = await this.db.selectFrom('tokens').selectAll().where('id_hash', '=', hashId(id)).executeTakeFirst();
    if (!row || row.revoked !== 0) return null;
    const expiresAt = Number(row.expires_at);
    if (now >= expiresAt && !(allowExpired && now < expiresAt + ALLOW_EXPIRED_MS)) return null;
    const user = await this.store.getUser(row.user_id);
    if (!user) return null;
    const scope: Scope = row.project_id !== null ? { project: row.project_id } : row.domain_id !== null ? { domain: row.domain_id } : null;
    const resolved = await this.resolve(user, scope);
    if (!resolved) return null;
    const info = this.infoFrom(id, row, resolved);
    const entry: CacheEntry = { info, ctx: contextOf(info), until: now + CACHE_MS };
    if (now < expiresAt) {
      if (this.cache.size >= CACHE_MAX) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(id, entry);
    }
    return entry;
  }

  async contextFor(token: string | undefined, requestId: string): Promise<RequestContext | null> {
    if (!token) return null;
    const now = this.clock.now();
    let entry: CacheEntry | null | undefined = this.cache.get(token);
    if (!entry || now >= entry.until) entry = await this.load(token, now, false);
    if (!entry || now >= entry.info.expiresAt) return null;
    return { ...entry.ctx, roles: [...entry.ctx.roles], requestId };
  }

  /** Revokes one token; false when it was not valid. */
  async revoke(id: string): Promise<boolean> {
    this.cache.delete(id);
    const res = await this.db.updateTable('tokens').set({ revoked: 1 }).where('id_hash', '=', hashId(id)).where('revoked', '=', 0).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Revokes every token of a user (disabled, deleted, password changed). */
  async revokeUser(userId: string): Promise<void> {
    await this.db.updateTable('tokens').set({ revoked: 1 }).where('user_id', '=', userId).execute();
    this.cache.clear();
  }

  /** Revokes every token scoped to a project (disabled or deleted). */
  async revokeProject(projectId: string): Promise<void> {
    await this.db.updateTable('tokens').set({ revoked: 1 }).where('project_id', '=', projectId).execute();
    this.cache.clear();
  }

  /** Revokes a user's tokens on one project or domain (a role assignment was removed). */
  async revokeGrant(userId: string, target: { project: string } | { domain: string }): Promise<void> {
    let q = this.db.updateTable('tokens').set({ revoked: 1 }).where('user_id', '=', userId);
    q = 'project' in target ? q.where('project_id', '=', target.project) : q.where('domain_id', '=', target.domain);
    await q.execute();
    this.cache.clear();
  }
}

/** The RequestContext a validated token stands for (without the request id). */
export function contextOf(info: TokenInfo): Omit<RequestContext, 'requestId'> {
  const roles = info.roles.map((r) => r.name);
  return {
    userId: info.user.id,
    userName: info.user.name,
    userDomainId: info.user.domain.id,
    projectId: info.project?.id ?? null,
    projectName: info.project?.name ?? null,
    projectDomainId: info.project?.domain.id ?? null,
    roles,
    isAdmin: roles.some((r) => r.toLowerCase() === 'admin'),
  };
}
