/**
 * store-s3: an `ObjectStore` (core/interfaces/store.ts) in an S3-compatible bucket (S3, R2, MinIO) with multipart
 * uploads, retries with backoff and clear errors, plus `publishSet`, which writes a set of objects and then their
 * manifest last. Uses `@aws-sdk/client-s3`.
 */
export { storeS3, STORE_S3_DEFAULTS, type S3ObjectStore, type StoreS3Options } from './store-s3.ts';
export { S3StoreError, S3_ERROR_REASONS, classifyS3Error, type S3ErrorReason } from './errors.ts';
export { MIN_PART_SIZE } from './multipart.ts';
export { publishSet, PublishAbortedError, type PublishSet, type PublishedObject } from './publish.ts';
export { storeS3Plugin } from './plugin.ts';
