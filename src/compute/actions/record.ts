import type { Db } from '../../db/index.js';

/**
 * Instance action records (Nova's _record_action_start and
 * wrap_instance_event): the API opens an action under the client's request
 * id; the component doing the work records one event per step.
 */
export interface ActionStart {
  action: string;
  instanceUuid: string;
  requestId: string;
  userId: string;
  projectId: string;
  now: string;
}

export async function recordActionStart(db: Db, a: ActionStart): Promise<void> {
  await db
    .insertInto('instance_actions')
    .values({
      action: a.action,
      instance_uuid: a.instanceUuid,
      request_id: a.requestId,
      user_id: a.userId,
      project_id: a.projectId,
      start_time: a.now,
      finish_time: null,
      message: null,
      updated_at: a.now,
    })
    .execute();
}

async function actionId(db: Db, instanceUuid: string, requestId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('instance_actions')
    .select('id')
    .where('instance_uuid', '=', instanceUuid)
    .where('request_id', '=', requestId)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.id;
}

export interface EventRef {
  instanceUuid: string;
  requestId: string;
  event: string;
  host: string | null;
}

/** Opens an event of the action; returns its id, or undefined when the action was not recorded. */
export async function eventStart(db: Db, ref: EventRef, now: string): Promise<number | undefined> {
  const id = await actionId(db, ref.instanceUuid, ref.requestId);
  if (id === undefined) return undefined;
  const res = await db
    .insertInto('instance_actions_events')
    .values({ action_id: id, event: ref.event, start_time: now, finish_time: null, result: null, traceback: null, host: ref.host, details: null })
    .executeTakeFirst();
  await db.updateTable('instance_actions').set({ updated_at: now }).where('id', '=', id).execute();
  return Number(res.insertId);
}

/** Closes an event with Success, or Error with the traceback and details; a failure marks the action 'Error'. */
export async function eventFinish(db: Db, eventId: number | undefined, now: string, error?: unknown): Promise<void> {
  if (eventId === undefined) return;
  const failed = error !== undefined;
  const ev = await db
    .updateTable('instance_actions_events')
    .set({
      finish_time: now,
      result: failed ? 'Error' : 'Success',
      traceback: failed ? (error instanceof Error ? (error.stack ?? error.message) : String(error)) : null,
      details: failed ? (error instanceof Error ? error.message : String(error)) : null,
    })
    .where('id', '=', eventId)
    .returning('action_id')
    .executeTakeFirst();
  if (!ev) return;
  await db
    .updateTable('instance_actions')
    .set({ updated_at: now, ...(failed ? { message: 'Error' } : {}) })
    .where('id', '=', ev.action_id)
    .execute();
}
