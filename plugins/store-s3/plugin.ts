/** The `store-s3` plugin definition for the registry (`core/plugins`). */
import { definePlugin } from '../../core/plugins/index.ts';
import { STORE_S3_DEFAULTS, storeS3 } from './store-s3.ts';

/** `store`: an ObjectStore in an S3-compatible bucket (options `bucket`, `endpoint`, credentials, …). */
export const storeS3Plugin = definePlugin({
  name: 'store-s3',
  kind: 'store',
  defaults: STORE_S3_DEFAULTS,
  create: function createStoreS3(_deps, options) {
    return storeS3(options);
  },
});
