import { pino } from 'pino';
import { buildCloud, type Cloud } from '../../src/app.js';
import { makeConfig } from '../../src/config/index.js';
import { FakeClock } from '../../src/lib/clock.js';
import type { InProcessBus } from '../../src/bus/in-process.js';

export interface TestCloud extends Cloud {
  clock: FakeClock;
  /** Lets every queued cast finish, advancing the fake clock past each sleep. */
  settle(): Promise<void>;
  /** Moves the fake clock one sleeper at a time until `pred` holds (to catch an operation mid-way). */
  stepUntil(pred: () => Promise<boolean>): Promise<void>;
  /** Project-scoped tokens of the seeded users. */
  tokens: { admin: string; demo: string; alt_demo: string };
  request(opts: RequestOpts): Promise<TestResponse>;
}

export interface RequestOpts {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'PATCH';
  url: string;
  /** Seeded user name whose token to send, or a raw token, or null for none. Default: demo. */
  as?: 'admin' | 'demo' | 'alt_demo' | null | { token: string };
  /** Compute microversion, sent as OpenStack-API-Version. */
  version?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are read ad hoc
  body: any;
  text: string;
}

/**
 * A whole cloud in-process: in-memory SQLite, instant virt steps, a fake
 * clock, no listener. Requests go through fastify.inject.
 */
export async function startTestCloud(config: Record<string, unknown> = {}, opts: { dbPath?: string } = {}): Promise<TestCloud> {
  const cfg = makeConfig({ log_level: 'silent', ...config, compute: { timing: 'instant', ...(config.compute as object | undefined) } });
  const cloud = await buildCloud({ config: cfg, dbPath: opts.dbPath ?? ':memory:', clock: new FakeClock(Date.now()), log: pino({ level: 'silent' }) });
  const tokens = {
    admin: await cloud.identity.issueToken('admin'),
    demo: await cloud.identity.issueToken('demo'),
    alt_demo: await cloud.identity.issueToken('alt_demo'),
  };
  const request = async (o: RequestOpts): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const as = o.as === undefined ? 'demo' : o.as;
    if (as !== null) headers['x-auth-token'] = typeof as === 'string' ? tokens[as] : as.token;
    if (o.version) headers['openstack-api-version'] = `compute ${o.version}`;
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await cloud.app.inject({ method: o.method ?? 'GET', url: o.url, headers, ...(payload !== undefined ? { payload } : {}) });
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body, text: res.body };
  };
  const clock = cloud.clock as FakeClock;
  const bus = cloud.bus as InProcessBus;
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 100_000; i++) {
      await new Promise((r) => setImmediate(r));
      const due = clock.nextDue();
      if (due !== undefined) {
        await clock.advance(Math.max(0, due - clock.now()));
        continue;
      }
      if (bus.pending === 0) return;
    }
    throw new Error('the cloud did not settle');
  };
  const stepUntil = async (pred: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 500; i++) {
      if (await pred()) return;
      await new Promise((r) => setImmediate(r));
      const due = clock.nextDue();
      if (due !== undefined) await clock.advance(Math.max(0, due - clock.now()));
    }
    throw new Error('condition never held');
  };
  return Object.assign(cloud, { tokens, request, clock, settle, stepUntil });
}
