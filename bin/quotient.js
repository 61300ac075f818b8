#!/usr/bin/env node
// Entry point of the `quotient` command: the sources are TypeScript, loaded through tsx so that
// an installation needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
