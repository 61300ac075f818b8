#!/usr/bin/env node
// Entry point of the `quotient` command. Production runs the build in dist/ (`npm run build`) with
// plain node; when it is absent or older than the sources (a fresh checkout, a developer's edit),
// the TypeScript sources run through tsx, with the same behaviour, only a slower start.
// QUOTIENT_SOURCES=1 forces the sources (what the test suite does).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const root = fileURLToPath(new URL('..', import.meta.url));

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  // Answered before anything else is loaded: scripts and health checks call it often.
  console.log(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
} else {
  const { distAJour } = await import('./dist.js');
  let main;
  if (process.env.QUOTIENT_SOURCES !== '1' && distAJour(root)) {
    ({ main } = await import('../dist/main.js'));
  } else {
    // The project's tsconfig is named explicitly because the command may run from any directory
    // (JSX settings live there).
    const { register } = await import('tsx/esm/api');
    register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
    ({ main } = await import('../src/cli/main.ts'));
  }
  process.exitCode = await main(argv);
}
