/**
 * Multipart upload of one in-memory object (checkpoints): `CreateMultipartUpload`, then parts of `partSize` bytes
 * (the last one shorter) sent `concurrency` at a time, each retried on its own, then `CompleteMultipartUpload`.
 * The object appears only when the upload completes, so a reader never sees part of it; on any failure or abort
 * the upload is aborted (best effort: a server that cannot abort keeps invisible parts until its lifecycle rule
 * removes them). All parts but the last have the same size, which R2 requires.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { S3_ERROR_REASONS, S3StoreError } from './errors.ts';
import type { Send } from './store-s3.ts';

/** S3's smallest part (every part but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's most parts per upload. */
export const MAX_PARTS = 10_000;

/** Uploads `bytes` to `objectKey` in parts; `key` is the store key (for messages). */
export async function uploadMultipart(
  send: Send,
  bucket: string,
  key: string,
  objectKey: string,
  bytes: Uint8Array,
  partSize: number,
  concurrency: number,
  signal?: AbortSignal,
): Promise<void> {
  const count = Math.ceil(bytes.length / partSize);
  if (count > MAX_PARTS) {
    throw new RangeError(`store-s3 put ${key}: ${bytes.length} bytes need ${count} parts of ${partSize} bytes, at most ${MAX_PARTS}; raise \`partSize\``);
  }
  const created = await send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: objectKey }), 'put (multipart start)', key, signal);
  const uploadId = created.UploadId;
  if (typeof uploadId !== 'string' || uploadId.length === 0) throw new Error(`store-s3 put ${key}: the endpoint started a multipart upload without an UploadId`);
  const parts: CompletedPart[] = new Array(count);
  // one failed part stops the others at once (their requests are aborted), then the upload is aborted
  const inner = new AbortController();
  const onOuterAbort = (): void => inner.abort(signal?.reason);
  if (signal?.aborted) inner.abort(signal.reason);
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    let next = 0;
    let firstError: unknown;
    async function worker(): Promise<void> {
      while (next < count && !inner.signal.aborted) {
        const i = next++;
        const body = bytes.subarray(i * partSize, Math.min(bytes.length, (i + 1) * partSize));
        const cmd = new UploadPartCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId, PartNumber: i + 1, Body: body, ContentLength: body.length });
        const res = await send(cmd, `put (part ${i + 1} of ${count})`, key, inner.signal);
        parts[i] = { PartNumber: i + 1, ETag: res.ETag };
      }
    }
    const workers = Array.from({ length: Math.min(concurrency, count) }, () =>
      worker().catch((e: unknown) => {
        firstError ??= e;
        inner.abort();
      }),
    );
    await Promise.all(workers);
    if (firstError !== undefined) throw firstError;
    if (inner.signal.aborted) throw new S3StoreError('aborted', `store-s3 put ${key}: ${S3_ERROR_REASONS.aborted}`, 0);
    await send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      'put (multipart complete)',
      key,
      signal,
    );
  } catch (e) {
    await send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId }), 'put (multipart abort)', key, undefined, 1).catch(() => {});
    throw e;
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
}
