import { ServiceError } from '../errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

export const AUTH_REQUIRED = 'The request you have made requires authentication.';

/** Keystone's error body: `{"error": {"code", "message", "title"}}`. */
export function keystoneBody(code: number, message: string): { error: { code: number; message: string; title: string } } {
  return { error: { code, message, title: TITLES[code] ?? 'Error' } };
}

export function ksError(code: number, message: string, headers: Record<string, string> = {}): ServiceError {
  return new ServiceError(code, keystoneBody(code, message), headers);
}

const CLIENT_AT_FAULT =
  'The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.';

export const ks = {
  unauthorized: (): ServiceError => ksError(401, AUTH_REQUIRED),
  forbidden: (action: string): ServiceError => ksError(403, `You are not authorized to perform the requested action: ${action}.`),
  forbiddenMessage: (message: string): ServiceError => ksError(403, message),
  notFound: (kind: string, id: string): ServiceError => ksError(404, `Could not find ${kind}: ${id}.`),
  resourceNotFound: (): ServiceError => ksError(404, 'The resource could not be found.'),
  tokenNotFound: (): ServiceError => ksError(404, 'Failed to validate token'),
  expecting: (attribute: string, target: string): ServiceError =>
    ksError(400, `Expecting to find ${attribute} in ${target}. ${CLIENT_AT_FAULT}`),
  invalidInput: (field: string, problem: string): ServiceError => ksError(400, `Invalid input for field '${field}': ${problem}`),
  badRequest: (message: string): ServiceError => ksError(400, message),
  conflict: (kind: string, detail: string): ServiceError => ksError(409, `Conflict occurred attempting to store ${kind} - ${detail}.`),
  malformedBody: (): ServiceError => ksError(400, `Malformed request body. ${CLIENT_AT_FAULT}`),
};
