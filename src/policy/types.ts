/** A rule declared in code next to the API that checks it, with Nova's default. */
export interface PolicyDefault {
  name: string;
  /** oslo.policy check string, e.g. `rule:project_member_api or rule:context_is_admin`. */
  check: string;
  description: string;
  operations?: { method: string; path: string }[];
}

export interface Authorizer {
  /** True when the rule allows the caller (`creds`) on `target`. Unknown rule names deny. */
  allowed(rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): boolean;
  /** Throws 403 `Policy doesn't allow <rule> to be performed.` when not allowed. */
  authorize(rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): void;
}
