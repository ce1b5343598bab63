/**
 * The one domain-error catalogue. Domain code throws these; the HTTP edge maps
 * them to Nova's fault bodies in exactly one place (src/api/faults.ts).
 */
export type FaultStatus = 400 | 401 | 403 | 404 | 405 | 406 | 409 | 410 | 413 | 415 | 429 | 500 | 501 | 503;

export class ApiError extends Error {
  readonly status: FaultStatus;
  readonly headers: Record<string, string>;
  constructor(status: FaultStatus, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.headers = headers;
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const unauthorized = (message = 'The request you have made requires authentication.'): ApiError =>
  new ApiError(401, message);
export const forbidden = (message: string): ApiError => new ApiError(403, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);
export const gone = (message: string): ApiError => new ApiError(410, message);
export const tooLarge = (message: string): ApiError => new ApiError(413, message);
export const notImplemented = (message: string): ApiError => new ApiError(501, message);

/** Nova's messages, written once. */
export const errors = {
  policy: (rule: string) => forbidden(`Policy doesn't allow ${rule} to be performed.`),
  instanceNotFound: (id: string) => notFound(`Instance ${id} could not be found.`),
  instanceLocked: (id: string) => conflict(`Instance ${id} is locked`),
  instanceInvalidState: (id: string, action: string, attr: 'vm_state' | 'task_state' | 'launched_at', state: string | null) =>
    conflict(`Cannot '${action}' instance ${id} while it is in ${attr} ${state ?? 'None'}`),
  instanceNotReady: (id: string) => conflict(`Instance ${id} is not ready`),
  flavorNotFound: (id: string) => notFound(`Flavor ${id} could not be found.`),
  imageNotFound: (id: string) => notFound(`Image ${id} could not be found.`),
  keypairNotFound: (name: string, userId: string) => notFound(`Keypair ${name} not found for user ${userId}`),
  quotaExceeded: (message: string) => forbidden(message),
  malformedBody: () => badRequest('Malformed request body'),
  noSuchAction: (key: string) => badRequest(`There is no such action: ${key}`),
} as const;

/** Keystone and Glance speak their own fault dialects; they throw these. */
export class ServiceError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.name = 'ServiceError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}
