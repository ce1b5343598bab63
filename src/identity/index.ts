import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import type { TokenValidator } from './types.js';
import { noauthTokens } from './noauth.js';

export interface SeededAccount {
  /** clouds.yaml entry name, e.g. stratus-demo. */
  cloud: string;
  username: string;
  password: string;
  projectName: string;
  projectId: string;
  userId: string;
}

export interface Identity {
  tokens: TokenValidator;
  /** Fastify plugin serving Keystone v3 under /identity. */
  plugin: (app: FastifyInstance) => Promise<void>;
  /** The seeded accounts (admin, demo, alt_demo), for clouds.yaml and the start banner. */
  accounts: SeededAccount[];
  /** Issues a project-scoped token for a seeded user name (tests and tools). */
  issueToken(username: string): Promise<string>;
}

export interface IdentityDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
}

/** PLACEHOLDER until Keystone lands: noauth only. */
export function createIdentity(_deps: IdentityDeps): Promise<Identity> {
  return Promise.resolve({
    tokens: noauthTokens,
    plugin: async () => {},
    accounts: [],
    issueToken: (username: string) => Promise.resolve(`${username}:${username}`),
  });
}
