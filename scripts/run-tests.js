#!/usr/bin/env node
// Runs every test file with node's own test runner through tsx. Node 20 has no glob support in
// `--test`, so the files are listed here. Extra arguments narrow the run to paths containing them.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';

const root = new URL('..', import.meta.url).pathname;
const roots = ['src', 'test'];
const filters = process.argv.slice(2);

function collect(dir, found) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, found);
    else if (/\.test\.tsx?$/.test(name)) found.push(relative(root, path));
  }
  return found;
}

const files = roots
  .flatMap((dir) => collect(join(root, dir), []))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error('Aucun fichier de test trouvé.');
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'summary-reporter.js')}`,
    '--test-reporter-destination=stdout',
    '--test-concurrency=2',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);

// A test file whose process never exits (a handle left open) would hold the whole run until CI's
// own limit, with no name given. Each file gets QUOTIENT_TEST_FILE_MAX_MIN minutes (10 by default):
// past that its process is killed, the runner counts the file as failed, and the run names it.
const fileMaxSeconds = Number(process.env.QUOTIENT_TEST_FILE_MAX_MIN ?? 10) * 60;
const killed = new Set();
const watchdog = setInterval(() => {
  let listing;
  try {
    listing = execFileSync('ps', ['-o', 'pid=,etimes=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' });
  } catch {
    return; // no child right now (ps exits 1), or no ps: nothing to watch
  }
  for (const line of listing.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const file = files.find((f) => match[3].endsWith(f));
    if (!file || Number(match[2]) < fileMaxSeconds || killed.has(file)) continue;
    killed.add(file);
    console.error(
      `\nLe fichier de test ${file} tourne encore après ${fileMaxSeconds / 60} min : il est arrêté (une attente sans fin ou une ressource restée ouverte).`,
    );
    try {
      process.kill(Number(match[1]), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}, 15_000);
watchdog.unref();

child.on('exit', (code, signal) => {
  clearInterval(watchdog);
  if (killed.size > 0) console.error(`\nFichiers arrêtés faute d’avoir fini à temps : ${[...killed].join(', ')}`);
  process.exit(killed.size > 0 ? 1 : (code ?? (signal ? 1 : 0)));
});
