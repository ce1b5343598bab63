import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { baseUrl } from '../api/compute.js';
import type { Config } from '../config/index.js';
import type { Enforcer } from '../policy/engine.js';
import { buildServices, tokenCatalog, type CatalogService, type Service } from './catalog.js';
import { ks } from './errors.js';
import type { Domain, IdentityStore, Project, Role, User } from './store.js';
import { tokenTime, type TokenInfo, type TokenService } from './tokens.js';

export interface ApiDeps {
  store: IdentityStore;
  tokens: TokenService;
  config: Config;
  log: Logger;
  services: CatalogService[];
  enforcer: Enforcer;
}

export type Query = Record<string, string | string[] | undefined>;

/** The first value of a query parameter. */
export function q1(query: unknown, key: string): string | undefined {
  const v = (query as Query | undefined)?.[key];
  return Array.isArray(v) ? v[0] : v;
}

export function hasQuery(query: unknown, key: string): boolean {
  return (query as Query | undefined)?.[key] !== undefined;
}

/** True for a flag given bare (`?nocatalog`) or with a true-ish value. */
export function queryFlag(query: unknown, key: string): boolean {
  const v = q1(query, key);
  if (v === undefined) return false;
  return !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

/** What every identity handler shares: base URLs, the caller, policy, rendering. */
export class Http {
  constructor(readonly deps: ApiDeps) {}

  get store(): IdentityStore {
    return this.deps.store;
  }

  get tokens(): TokenService {
    return this.deps.tokens;
  }

  /** The public base URL: config.public_url, or what the request's Host says. */
  base(req: FastifyRequest): string {
    const configured = this.deps.config.public_url;
    return configured ? configured.replace(/\/+$/, '') : baseUrl(req);
  }

  v3(req: FastifyRequest): string {
    return `${this.base(req)}/identity/v3`;
  }

  services(req: FastifyRequest): Service[] {
    return buildServices(this.deps.services, this.base(req), this.deps.config.region);
  }

  /** The caller's validated token; 401 when missing or invalid. */
  async caller(req: FastifyRequest): Promise<TokenInfo> {
    const token = req.headers['x-auth-token'];
    const info = await this.tokens.validate(typeof token === 'string' ? token : undefined);
    if (!info) throw ks.unauthorized();
    return info;
  }

  creds(info: TokenInfo): Record<string, unknown> {
    const roles = info.roles.map((r) => r.name);
    return {
      user_id: info.user.id,
      user_domain_id: info.user.domain.id,
      project_id: info.project?.id ?? null,
      project_domain_id: info.project?.domain.id ?? null,
      domain_id: info.domain?.id ?? null,
      roles,
      is_admin: roles.some((r) => r.toLowerCase() === 'admin'),
    };
  }

  enforce(action: string, caller: TokenInfo, target: Record<string, unknown> = {}): void {
    if (!this.deps.enforcer.enforce(action, target, this.creds(caller))) throw ks.forbidden(action);
  }

  /** Authenticates the caller and checks one rule. */
  async authorize(req: FastifyRequest, action: string, target: Record<string, unknown> = {}): Promise<TokenInfo> {
    const caller = await this.caller(req);
    this.enforce(action, caller, target);
    return caller;
  }

  links(req: FastifyRequest): { self: string; previous: null; next: null } {
    return { self: `${this.base(req)}${req.url}`, previous: null, next: null };
  }

  send(reply: FastifyReply, status: number, body?: unknown, headers: Record<string, string> = {}): FastifyReply {
    void reply.code(status).headers(headers);
    if (body === undefined || reply.request.method === 'HEAD') return reply.send();
    return reply.type('application/json').send(JSON.stringify(body));
  }

  // ---- renderers ----

  domain(req: FastifyRequest, d: Domain): Record<string, unknown> {
    return {
      tags: [],
      ...d.extra,
      id: d.id,
      name: d.name,
      description: d.description,
      enabled: d.enabled,
      options: {},
      links: { self: `${this.v3(req)}/domains/${d.id}` },
    };
  }

  project(req: FastifyRequest, p: Project): Record<string, unknown> {
    return {
      ...p.extra,
      id: p.id,
      name: p.name,
      domain_id: p.domainId,
      description: p.description,
      enabled: p.enabled,
      parent_id: p.domainId,
      is_domain: false,
      tags: p.tags,
      options: {},
      links: { self: `${this.v3(req)}/projects/${p.id}` },
    };
  }

  user(req: FastifyRequest, u: User): Record<string, unknown> {
    return {
      ...u.extra,
      id: u.id,
      name: u.name,
      domain_id: u.domainId,
      enabled: u.enabled,
      ...(u.defaultProjectId !== null ? { default_project_id: u.defaultProjectId } : {}),
      password_expires_at: null,
      options: {},
      links: { self: `${this.v3(req)}/users/${u.id}` },
    };
  }

  role(req: FastifyRequest, r: Role): Record<string, unknown> {
    return {
      ...r.extra,
      id: r.id,
      name: r.name,
      domain_id: r.domainId,
      description: r.description,
      options: {},
      links: { self: `${this.v3(req)}/roles/${r.id}` },
    };
  }

  /** `{"token": {...}}` as Keystone renders it. */
  tokenBody(req: FastifyRequest, info: TokenInfo, withCatalog: boolean): { token: Record<string, unknown> } {
    const token: Record<string, unknown> = {
      methods: info.methods,
      user: { domain: info.user.domain, id: info.user.id, name: info.user.name, password_expires_at: null },
      audit_ids: info.auditIds,
      expires_at: tokenTime(info.expiresAt),
      issued_at: tokenTime(info.issuedAt),
    };
    if (info.project) {
      token.project = { domain: info.project.domain, id: info.project.id, name: info.project.name };
      token.is_domain = false;
    } else if (info.domain) {
      token.domain = info.domain;
    }
    if (info.project || info.domain) {
      token.roles = info.roles;
      if (withCatalog) token.catalog = tokenCatalog(this.services(req));
    }
    return { token };
  }
}
