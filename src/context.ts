/** Who is calling, as established from a token (or the noauth header). */
export interface RequestContext {
  requestId: string;
  userId: string;
  userName: string;
  userDomainId: string;
  /** Null for an unscoped or domain-scoped token. */
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  roles: string[];
  /** `context_is_admin` evaluated once: the caller has the admin role. */
  isAdmin: boolean;
}

/** The credential dict that policy checks read (oslo.policy's `creds`). */
export function credentials(ctx: RequestContext): Record<string, unknown> {
  return {
    user_id: ctx.userId,
    user_domain_id: ctx.userDomainId,
    project_id: ctx.projectId,
    project_domain_id: ctx.projectDomainId,
    roles: ctx.roles,
    is_admin: ctx.isAdmin,
  };
}
