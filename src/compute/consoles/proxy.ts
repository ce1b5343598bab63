import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Db } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { validToken } from './common.js';

/** Which console type each page serves. */
const PAGES: Record<string, string> = {
  novnc: 'novnc',
  spice: 'spice-html5',
  'spice-direct': 'spice-direct',
  serial: 'serial',
  mks: 'webmks',
};

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The token of a console URL: `?token=` or, for noVNC, inside `?path=?token=`. */
function tokenOf(query: Record<string, unknown>): string | undefined {
  if (typeof query.token === 'string') return query.token;
  if (typeof query.path === 'string') {
    const i = query.path.indexOf('?');
    const inner = new URLSearchParams(i >= 0 ? query.path.slice(i + 1) : query.path).get('token');
    if (inner) return inner;
  }
  return undefined;
}

/**
 * The console proxy's front page (Nova's novncproxy, spicehtml5proxy,
 * serialproxy...): the URL a remote-console request hands out. A valid,
 * unexpired token of the page's console type gets 200 and a small page
 * naming the console it would connect to; anything else 401. Register under
 * the prefix `/compute/console`, outside the authenticated compute API.
 */
export function consoleProxy(deps: { db: Db; clock: Clock }) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/:kind', (req, reply) => serve(req.params as Record<string, string>, req.query as Record<string, unknown>, reply));
    app.get('/:kind/*', (req, reply) => serve(req.params as Record<string, string>, req.query as Record<string, unknown>, reply));

    async function serve(params: Record<string, string>, query: Record<string, unknown>, reply: FastifyReply) {
      const type = PAGES[params.kind ?? ''];
      if (!type) return reply.code(404).type('text/plain; charset=UTF-8').send('Not Found\n');
      const token = tokenOf(query);
      const row = token ? await validToken(deps, token) : undefined;
      if (!row || row.console_type !== type) {
        return reply.code(401).type('text/plain; charset=UTF-8').send("The token '***' is invalid or has expired\n");
      }
      const title = `Console of ${row.instance_uuid}`;
      const html =
        `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
        `<body><h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(row.console_type)} console at ${escapeHtml(row.host)}:${row.port}` +
        ` (Stratus simulated console; the token expires at ${new Date(row.expires * 1000).toISOString()}).</p></body></html>\n`;
      return reply.code(200).type('text/html; charset=UTF-8').send(html);
    }
  };
}
