import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config/index.js';
import { openDatabase, type Db } from './db/index.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createIdentity, type Identity } from './identity/index.js';
import { createPolicy } from './policy/index.js';
import { loadPolicyOverrides } from './policy/file.js';
import { allPolicyDefaults } from './policy/defaults.js';
import { createImageService, type ImageService } from './image/index.js';
import { InProcessBus } from './bus/in-process.js';
import type { Bus } from './bus/types.js';
import { NetworkModel } from './network/model.js';
import { RenderCache } from './compute/servers/render-cache.js';
import { consoleProxy } from './compute/consoles/proxy.js';
import { boundsFor } from './api/microversion.js';
import { COMPUTE_BODY_LIMIT, computeEdge, newRequestId, rewriteLegacyComputeUrl } from './api/compute.js';
import { computeRoutes } from './api/routes.js';
import type { ComputeDeps } from './compute/deps.js';
import { startComputeServices, type ComputeServices } from './compute/services.js';
import type { Authorizer } from './policy/types.js';

export interface CloudOptions {
  config: Config;
  /** Database file, or ':memory:'; default <data_dir>/stratus.db. */
  dbPath?: string;
  clock?: Clock;
  /** A pino logger; default: info level to stdout. */
  log?: Logger;
}

export interface Cloud {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  app: FastifyInstance;
  identity: Identity;
  images: ImageService;
  policy: Authorizer;
  compute: ComputeServices;
  bus: Bus;
  close(): Promise<void>;
}

/** Wires every component of the cloud into one process. Does not listen. */
export async function buildCloud(opts: CloudOptions): Promise<Cloud> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? pino({ level: config.log_level });
  const db = await openDatabase(opts.dbPath ?? join(config.data_dir, 'stratus.db'));
  const policy = createPolicy(allPolicyDefaults, loadPolicyOverrides(config.policy_file));
  const identity = await createIdentity({ db, config, clock, log });
  const images = await createImageService({ db, config, clock, log, tokens: identity.tokens, policy });
  const bus = new InProcessBus(log);
  const network = new NetworkModel(db, clock);
  await network.init();
  const deps: ComputeDeps = { db, config, clock, log, policy, images: images.catalog, imageService: images, bus, network, renderCache: new RenderCache() };
  const compute = await startComputeServices(deps, network);

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: COMPUTE_BODY_LIMIT,
    genReqId: newRequestId,
    rewriteUrl: (req) => rewriteLegacyComputeUrl(req.url ?? '/', req as { urlProjectId?: string }),
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
  });
  app.addHook('onRequest', (req, _reply, done) => {
    const p = (req.raw as { urlProjectId?: string }).urlProjectId;
    if (p !== undefined) req.urlProjectId = p;
    done();
  });
  app.addHook('onSend', (req, reply, _payload, done) => {
    void reply.header('x-openstack-request-id', req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(
      { reqId: req.id, method: req.method, path: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      `${req.method} ${req.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`,
    );
    done();
  });
  // Clients send JSON with or without a charset; a missing Content-Type is read as JSON too.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new SyntaxError('Malformed request body') as SyntaxError & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  await app.register(identity.plugin, { prefix: '/identity' });
  await app.register(consoleProxy({ db, clock }), { prefix: '/compute/console' });
  await app.register(images.plugin, { prefix: '/image' });
  await app.register(
    computeEdge({ bounds: boundsFor(config.release), tokens: identity.tokens, routes: computeRoutes(deps, compute.drivers, compute) }),
    { prefix: '/compute' },
  );
  app.get('/', (_req, reply) => reply.redirect('/identity/'));

  return {
    config,
    db,
    clock,
    log,
    app,
    identity,
    images,
    policy,
    compute,
    bus,
    async close() {
      await app.close();
      await compute.stop();
      await bus.close();
      await db.destroy();
    },
  };
}
