/**
 * Errors of the S3 store: every failure is an `S3StoreError` with one `reason` from `S3_ERROR_REASONS` and a
 * message that names the operation, the key, the bucket and the endpoint, and says what to do. `classifyS3Error`
 * also decides whether a failure is worth retrying (network faults, 5xx, throttling) or not (a missing bucket,
 * refused credentials, a caller's abort).
 *
 * @example
 *   try { await store.get('a'); } catch (e) { if (e instanceof S3StoreError && e.reason === 'no_bucket') … }
 */

/** Why an S3 operation failed, with the hint a person can act on. */
export const S3_ERROR_REASONS = Object.freeze({
  no_bucket: 'the bucket does not exist at this endpoint: create it, or fix the `bucket` / `endpoint` options',
  denied: 'the endpoint refused the credentials: check `accessKeyId` / `secretAccessKey` and the key\'s permissions on this bucket',
  unreachable: 'the endpoint could not be reached (connection refused, DNS or timeout): check `endpoint` and that the server is up',
  unavailable: 'the endpoint kept failing (5xx or throttling) through every retry: try again later, or raise `attempts`',
  aborted: 'the operation was aborted by its caller',
  failed: 'the endpoint refused the request',
});
export type S3ErrorReason = keyof typeof S3_ERROR_REASONS;

/** A failed S3 store operation. */
export class S3StoreError extends Error {
  override readonly name = 'S3StoreError';
  constructor(
    readonly reason: S3ErrorReason,
    message: string,
    /** Requests made before giving up. */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a raw failure means: its reason, whether a retry may help, and a short description of it. */
export interface Classified {
  readonly reason: S3ErrorReason;
  readonly retryable: boolean;
  readonly detail: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'CredentialsProviderError', 'Forbidden']);
const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable', 'TooManyRequests']);

/** Classifies an error thrown by the AWS SDK (or the network under it). */
export function classifyS3Error(e: unknown): Classified {
  const err = (typeof e === 'object' && e !== null ? e : {}) as {
    name?: unknown; code?: unknown; Code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown }; cause?: unknown;
  };
  const name = typeof err.name === 'string' ? err.name : '';
  const code = typeof err.Code === 'string' ? err.Code : typeof err.code === 'string' ? err.code : name;
  const status = typeof err.$metadata?.httpStatusCode === 'number' ? err.$metadata.httpStatusCode : undefined;
  const message = typeof err.message === 'string' ? err.message : String(e);
  const detail = `${code || 'Error'}${status !== undefined ? ` (HTTP ${status})` : ''}: ${message}`;
  if (name === 'AbortError' || code === 'AbortError') return { reason: 'aborted', retryable: false, detail };
  if (code === 'NoSuchBucket') return { reason: 'no_bucket', retryable: false, detail };
  if (CREDENTIAL_CODES.has(code) || status === 401 || status === 403) return { reason: 'denied', retryable: false, detail };
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || /socket hang up|ECONNRESET|ECONNREFUSED/.test(message)) {
    return { reason: 'unreachable', retryable: true, detail };
  }
  if (THROTTLE_CODES.has(code) || status === 429 || (status !== undefined && status >= 500)) return { reason: 'unavailable', retryable: true, detail };
  if (status === undefined && !(e instanceof Error && '$fault' in e)) {
    // no HTTP answer at all (a reset stream, an unparsable body): the next attempt may get through
    return { reason: 'unreachable', retryable: true, detail };
  }
  return { reason: 'failed', retryable: false, detail };
}
