import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp directory per call; `cleanup()` removes all made by this module. */
const made: string[] = [];

export async function tempDir(label = 'oc-keyv-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label));
  made.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
