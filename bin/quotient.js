#!/usr/bin/env node
// Entry point of the `quotient` command: the sources are TypeScript, loaded through tsx so that
// an installation needs no build step. The project's tsconfig is named explicitly because the
// command may run from any directory (JSX settings live there).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
