import { ApiError } from '../errors.js';

/** Nova's fault names by status; anything else renders as computeFault. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? 'computeFault';
}

export interface Fault {
  status: number;
  body: Record<string, { code: number; message: string }>;
  headers: Record<string, string>;
}

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: unknown;
}

/**
 * The one place where errors become Nova fault bodies: domain errors keep
 * their status and message; framework errors (body parsing, size, media type)
 * get Nova's wording; everything else is a 500 that hides its details.
 */
export function toFault(err: unknown): Fault {
  if (err instanceof ApiError) {
    return render(err.status, err.message, err.headers);
  }
  const e = (err ?? {}) as FrameworkError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return render(413, 'Request is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return render(415, 'Unsupported Content-Type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return render(400, 'Malformed request body');
    default:
      break;
  }
  if (e instanceof SyntaxError || (e.statusCode === 400 && e.validation === undefined)) {
    return render(400, 'Malformed request body');
  }
  return render(
    500,
    'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class \'Exception\'>',
  );
}

export function render(status: number, message: string, headers: Record<string, string> = {}): Fault {
  const body: Fault['body'] = { [faultName(status)]: { code: status, message } };
  const retry = headers['retry-after'];
  const fault = body[faultName(status)];
  if (retry !== undefined && fault) Object.assign(fault, { retryAfter: retry });
  return { status, body, headers };
}
