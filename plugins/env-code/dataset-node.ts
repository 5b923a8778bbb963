/**
 * The Node side of the code dataset: the path of the shipped problems (`data/problems.jsonl`, 61 problems
 * written for this project, difficulty 1–3, each with a reference solution). Open it with `fileReader` from
 * plugins/env-math/dataset-node.ts. Separate from the environment so that importing it never pulls in `node:*`.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the shipped JSONL dataset. */
export function sampleCodeDatasetPath(): string {
  return fileURLToPath(new URL('./data/problems.jsonl', import.meta.url));
}
