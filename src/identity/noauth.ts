import type { RequestContext } from '../context.js';
import type { TokenValidator } from './types.js';

/**
 * noauth mode, for local hacking: the token is `user:project` (or just `user`);
 * the user named `admin` gets the admin role, everyone else member and reader.
 */
export const noauthTokens: TokenValidator = {
  contextFor(token, requestId): Promise<RequestContext | null> {
    if (!token) return Promise.resolve(null);
    const [user = '', project = user] = token.split(':', 2);
    if (!user) return Promise.resolve(null);
    const isAdmin = user === 'admin';
    return Promise.resolve({
      requestId,
      userId: user,
      userName: user,
      userDomainId: 'default',
      projectId: project,
      projectName: project,
      projectDomainId: 'default',
      roles: isAdmin ? ['admin', 'member', 'reader'] : ['member', 'reader'],
      isAdmin,
    });
  },
};
