import type { Db } from '../db/index.js';

/** What an instance-action event cut short by a restart says. */
export const INTERRUPTED = 'The operation was interrupted because the service restarted.';

/**
 * Closes every event of a server's instance actions that a restart left
 * open (started, never finished) as `Error`, and marks those actions
 * `Error`, as a failure would have. Nothing is running at service start, so
 * an open event can only belong to an operation the crash killed. Returns
 * how many events were closed.
 */
export async function closeInterruptedEvents(db: Db, instanceUuid: string, now: string): Promise<number> {
  const open = await db
    .selectFrom('instance_actions_events')
    .innerJoin('instance_actions', 'instance_actions.id', 'instance_actions_events.action_id')
    .select(['instance_actions_events.id as id', 'instance_actions.id as actionId'])
    .where('instance_actions.instance_uuid', '=', instanceUuid)
    .where('instance_actions_events.finish_time', 'is', null)
    .execute();
  if (open.length === 0) return 0;
  await db
    .updateTable('instance_actions_events')
    .set({ finish_time: now, result: 'Error', traceback: INTERRUPTED, details: INTERRUPTED })
    .where('id', 'in', open.map((e) => e.id))
    .execute();
  await db
    .updateTable('instance_actions')
    .set({ message: 'Error', updated_at: now })
    .where('id', 'in', [...new Set(open.map((e) => e.actionId))])
    .execute();
  return open.length;
}
