/**
 * The Node side of the code dataset: the path of the shipped problems (`data/problems.jsonl`, 61 problems
 * written for this project, difficulty 1–3, each with a reference solution). Open it with `fileReader` from
 * plugins/env-math/dataset-node.ts. Separate from the environment so that importing it never pulls in `node:*`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of the shipped JSONL dataset (from the sources, or from the bundle in dist/). */
export function sampleCodeDatasetPath(): string {
  const beside = fileURLToPath(new URL('./data/problems.jsonl', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../plugins/env-code/data/problems.jsonl', import.meta.url));
}
