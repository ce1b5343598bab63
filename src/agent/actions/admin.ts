import { recordFault, touchInstance } from '../../compute/servers/repo.js';
import type { GuestNic } from '../../virt/driver.js';
import type { AgentOp } from '../context.js';

/**
 * Compute side of injectNetworkInfo: pushes the server's current ports into
 * the guest. Nova records no instance action for it; a failure is a fault.
 */
export const adminOps: Record<string, AgentOp> = {
  inject_network_info: async (ctx, args) => {
    const uuid = String(args.uuid);
    const { db, driver, host, log } = ctx.deps;
    const inst = await ctx.mine(uuid);
    if (!inst) return;
    try {
      const ports = await db.selectFrom('ports').selectAll().where('instance_uuid', '=', uuid).orderBy('created_at').execute();
      const nics: GuestNic[] = ports.map((p) => ({
        portId: p.id,
        mac: p.mac_address,
        ips: [p.fixed_ip_v4, p.fixed_ip_v6].filter((x): x is string => x !== null),
      }));
      await driver.injectNetworkInfo(uuid, nics);
    } catch (err) {
      log.warn({ err, uuid, host }, 'inject_network_info failed');
      const message = err instanceof Error ? err.message : String(err);
      await recordFault(db, uuid, { code: 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: ctx.now() });
      await touchInstance(db, uuid);
    }
  },
};
