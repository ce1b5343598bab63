import { ConsoleError } from '../../compute/consoles/common.js';
import { recordFault } from '../../compute/servers/repo.js';
import { VmState } from '../../compute/states.js';
import { isoMicro } from '../../lib/time.js';
import { DriverError, type ConsoleKind } from '../../virt/driver.js';
import type { AgentOp } from '../context.js';

/** Console types each protocol serves (Nova's manager checks; serial checks none). */
const TYPES: Record<string, readonly string[] | null> = {
  vnc: ['novnc'],
  spice: ['spice-html5', 'spice-direct'],
  mks: ['webmks'],
  serial: null,
};

function kindOf(protocol: string, consoleType: string): ConsoleKind {
  if (protocol === 'serial') return 'serial';
  return consoleType as ConsoleKind;
}

/** Python's int() on what the API passed as `length`; 0 when it is not a number (Nova's _tail_log). */
function tailLength(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : /^\s*[+-]?\d+\s*$/.test(String(v)) ? Number(String(v).trim()) : 0;
  return Math.trunc(n);
}

/**
 * Compute side of the consoles: the console log of the guest (tailed as
 * Nova's _tail_log does: the last N '\n'-separated pieces, -1 dropping the
 * first), and console authorisations (the driver says where the console
 * listens; the token's hash is stored with it).
 */
export const consolesOps: Record<string, AgentOp> = {
  get_console_output: async (ctx, args) => {
    const uuid = String(args.uuid);
    const inst = await ctx.mine(uuid);
    if (!inst) throw new ConsoleError('instance-not-found', `Instance ${uuid} could not be found.`);
    let output: string;
    try {
      output = await ctx.deps.driver.consoleOutput(uuid);
    } catch (err) {
      if (err instanceof DriverError) throw new ConsoleError('console-unavailable', 'Guest does not have a console available.');
      throw err;
    }
    const n = tailLength(args.length);
    if (n === null) return output;
    if (n === 0) return '';
    return output.split('\n').slice(-n).join('\n');
  },

  get_console: async (ctx, args) => {
    const uuid = String(args.uuid);
    const protocol = String(args.protocol);
    const consoleType = String(args.consoleType);
    const { db, driver, host } = ctx.deps;
    const inst = await ctx.mine(uuid);
    if (!inst) throw new ConsoleError('instance-not-found', `Instance ${uuid} could not be found.`);
    const allowed = TYPES[protocol];
    if (allowed === undefined) throw new ConsoleError('type-unavailable', `Unavailable console type ${consoleType}.`);
    if (allowed !== null && !allowed.includes(consoleType)) throw new ConsoleError('type-invalid', `Invalid console type ${consoleType}`);
    let endpoint: { host: string; port: number; internalAccessPath: string | null };
    try {
      endpoint = await driver.consoleEndpoint(uuid, kindOf(protocol, consoleType));
    } catch (err) {
      const missing = err instanceof DriverError && /could not be found/.test(err.message);
      if (missing && inst.vm_state === VmState.BUILDING) throw new ConsoleError('not-ready', `Instance ${uuid} is not ready`);
      if (missing) throw new ConsoleError('instance-not-found', `Instance ${uuid} could not be found.`);
      const message = err instanceof Error ? err.message : String(err);
      await recordFault(db, uuid, {
        code: 500,
        message: message.slice(0, 255),
        details: err instanceof Error ? (err.stack ?? message) : message,
        created_at: ctx.now(),
      });
      throw err;
    }
    const nowMs = ctx.deps.clock.now();
    await db.deleteFrom('console_auth_tokens').where('expires', '<=', Math.floor(nowMs / 1000)).execute();
    await db
      .insertInto('console_auth_tokens')
      .values({
        token_hash: String(args.tokenHash),
        console_type: consoleType,
        host: endpoint.host,
        port: endpoint.port,
        tls_port: consoleType === 'spice-direct' ? endpoint.port + 1 : null,
        internal_access_path: endpoint.internalAccessPath,
        instance_uuid: uuid,
        access_url_base: typeof args.accessUrlBase === 'string' ? args.accessUrlBase : null,
        expires: Math.floor(nowMs / 1000) + Number(args.ttl ?? 600),
        created_at: isoMicro(nowMs),
      })
      .execute();
    ctx.deps.log.debug({ uuid, consoleType, host }, 'console authorised');
    return { host: endpoint.host, port: endpoint.port };
  },
};
