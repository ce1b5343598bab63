/**
 * Glance's fault dialect. Glance raises webob HTTP exceptions whose body is
 * negotiated from the Accept header: JSON `{"message", "code", "title"}`,
 * an HTML page, or plain text `"<status>\n\n<message>\n\n   "`.
 */

export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Default explanations, used when no specific message is given. */
const DEFAULT_EXPLANATIONS: Record<number, string> = {
  404: 'The resource could not be found.',
  405: 'The method specified is not allowed for this resource.',
  415: 'The request media type is not supported by this server.',
  500: 'The server has either erred or is incapable of performing the requested operation.',
};

export class GlanceError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message?: string, headers: Record<string, string> = {}) {
    super(message ?? DEFAULT_EXPLANATIONS[status] ?? STATUS_TITLES[status] ?? 'Error');
    this.name = 'GlanceError';
    this.status = status;
    this.headers = headers;
  }
}

export const badRequest = (msg: string): GlanceError => new GlanceError(400, msg);
export const forbidden = (msg: string): GlanceError => new GlanceError(403, msg);
export const notFound = (msg?: string): GlanceError => new GlanceError(404, msg);
export const conflict = (msg: string): GlanceError => new GlanceError(409, msg);

export const imageNotFound = (id: string): GlanceError => notFound(`No image found with ID ${id}`);
export const notAuthorized = (action: string): GlanceError => forbidden(`You are not authorized to complete ${action} action.`);
export const readOnly = (attr: string): GlanceError => forbidden(`Attribute '${attr}' is read-only.`);
export const reserved = (attr: string): GlanceError => forbidden(`Attribute '${attr}' is reserved.`);

export interface RenderedFault {
  status: number;
  contentType: string;
  body: string;
  headers: Record<string, string>;
}

type Flavour = 'html' | 'json' | 'plain';

/** Quality of `type` under an Accept header: the most specific matching range wins. */
function quality(ranges: { type: string; sub: string; q: number }[], type: string): number {
  const [t, s] = type.split('/');
  let best = -1;
  let bestSpecificity = -1;
  for (const r of ranges) {
    const specificity = r.type === t && r.sub === s ? 2 : r.type === t && r.sub === '*' ? 1 : r.type === '*' && r.sub === '*' ? 0 : -1;
    if (specificity > bestSpecificity) {
      bestSpecificity = specificity;
      best = r.q;
    }
  }
  return best < 0 ? 0 : best;
}

/** Picks the body format the way webob does: HTML first on ties, JSON, else plain text. */
export function negotiateFaultFormat(accept: string | undefined): Flavour {
  if (accept === undefined || accept.trim() === '') return 'html';
  const ranges: { type: string; sub: string; q: number }[] = [];
  for (const part of accept.split(',')) {
    const [media = '', ...params] = part.trim().split(';');
    const [type = '', sub = ''] = media.trim().toLowerCase().split('/');
    if (!type || !sub) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim() === 'q' && v !== undefined) {
        const n = Number(v);
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 1;
      }
    }
    ranges.push({ type, sub, q });
  }
  if (ranges.length === 0) return 'html';
  const html = quality(ranges, 'text/html');
  const json = quality(ranges, 'application/json');
  if (html <= 0 && json <= 0) return 'plain';
  return html >= json ? 'html' : 'json';
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

/** Renders a Glance fault for a client with the given Accept header. */
export function renderFault(status: number, message: string, accept: string | undefined, headers: Record<string, string> = {}): RenderedFault {
  const title = STATUS_TITLES[status] ?? 'Error';
  const statusLine = `${status} ${title}`;
  const flavour = negotiateFaultFormat(accept);
  if (flavour === 'json') {
    return {
      status,
      headers,
      contentType: 'application/json',
      body: JSON.stringify({ message: `${message}<br /><br />\n\n\n`, code: statusLine, title }),
    };
  }
  if (flavour === 'html') {
    const body = `${escapeHtml(message)}<br /><br />\n\n\n`;
    return {
      status,
      headers,
      contentType: 'text/html; charset=UTF-8',
      body: `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${body}\n </body>\n</html>`,
    };
  }
  // Plain text: newlines become spaces, then each <br /> a newline.
  const plain = `${message.replace(/\r/g, '').replace(/\n/g, ' ')}\n\n   `;
  return { status, headers, contentType: 'text/plain; charset=UTF-8', body: `${statusLine}\n\n${plain}` };
}
