import type { RequestContext } from '../context.js';

/** What the other services need from identity. */
export interface TokenValidator {
  /**
   * Resolves the caller of a request from its X-Auth-Token (keystone mode) or
   * the `user:project` token of noauth mode. Returns null when the token is
   * missing, unknown, expired or revoked. `requestId` is copied into the context.
   */
  contextFor(token: string | undefined, requestId: string): Promise<RequestContext | null>;
}
