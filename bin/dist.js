// Whether the production build in dist/ matches the sources, shared by the `quotient` entry point
// and scripts/build.js. The build records every source file esbuild read with its size and mtime;
// the build is current while none of them changed. New files only matter once a recorded file
// imports them, and that import changes the recorded file.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const MANIFEST = 'build-manifest.json';

/** The stamp of one file: changes when it is edited (size or mtime), cheap to read. */
export function stamp(path) {
  const s = statSync(path);
  return `${s.size}:${Math.trunc(s.mtimeMs)}`;
}

/** True when `distDir` holds a build of the sources under `root` that no later edit invalidated. */
export function distAJour(root, distDir = join(root, 'dist')) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(distDir, MANIFEST), 'utf8'));
  } catch {
    return false;
  }
  if (manifest === null || typeof manifest !== 'object' || typeof manifest.inputs !== 'object' || manifest.inputs === null) return false;
  try {
    for (const [file, expected] of Object.entries(manifest.inputs)) if (stamp(join(root, file)) !== expected) return false;
  } catch {
    return false;
  }
  return true;
}
