#!/usr/bin/env node
// Fails when the folders of src/modules import each other in a cycle (agents → guichet → agents):
// a capability may use another one, never the other way round as well. What several modules share
// lives in src/http, src/domain or src/infra, or in the module that owns it. Only static imports of
// the modules' own code are read (tests and their support are left out); plain Node, no dependency.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const modulesDir = join(root, 'src', 'modules');

/** Test files and their support (`*.test.ts`, `test-support.ts`, `test-harness.ts`, `*.child.ts`). */
const isTestFile = (name) => /\.test\.tsx?$/.test(name) || /^test-/.test(name) || /\.child\.tsx?$/.test(name);

function sourceFiles(dir, found = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, found);
    else if (/\.(ts|tsx|js|mjs)$/.test(name) && !name.endsWith('.d.ts') && !isTestFile(name)) found.push(path);
  }
  return found;
}

/** The text with comments blanked out, strings and template literals kept, so that a comment never reads as an import. */
function withoutComments(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// `import x from '…'`, `import type { X } from '…'`, `import '…'`, `export { x } from '…'`, `export * from '…'`.
const STATIC_IMPORT = /(?:^|[;\n}])\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?(['"])([^'"\n]+)\1/g;

function importsOf(file) {
  const text = withoutComments(readFileSync(file, 'utf8'));
  return [...text.matchAll(STATIC_IMPORT)].map((m) => m[2]);
}

/** The module folder a path belongs to, or undefined outside src/modules. */
function moduleOf(path) {
  const rel = relative(modulesDir, path);
  if (rel.startsWith('..') || rel === '') return undefined;
  return rel.split(sep)[0];
}

/** edges: from module → to module → the files that make that edge. */
const edges = new Map();
for (const file of sourceFiles(modulesDir)) {
  const from = moduleOf(file);
  for (const specifier of importsOf(file)) {
    if (!specifier.startsWith('.')) continue;
    const to = moduleOf(resolve(dirname(file), specifier));
    if (to === undefined || to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const targets = edges.get(from);
    if (!targets.has(to)) targets.set(to, new Set());
    targets.get(to).add(relative(root, file));
  }
}

const successors = (m) => [...(edges.get(m)?.keys() ?? [])].sort();

/**
 * Every elementary cycle, each once: from each module, the paths through modules that sort after
 * it and come back to it. The graph has a few dozen edges, so the walk stays small.
 */
const MAX_CYCLES = 100;
const cycles = [];
for (const start of [...edges.keys()].sort()) {
  const path = [start];
  const walk = (current) => {
    for (const next of successors(current)) {
      if (cycles.length >= MAX_CYCLES) return;
      if (next === start) cycles.push([...path, start]);
      else if (next > start && !path.includes(next)) {
        path.push(next);
        walk(next);
        path.pop();
      }
    }
  };
  walk(start);
}

if (cycles.length === 0) {
  const count = [...edges.values()].reduce((n, targets) => n + targets.size, 0);
  console.log(`Aucun cycle entre les modules (${edges.size} modules qui en importent d’autres, ${count} dépendances).`);
  process.exit(0);
}

console.error(`Cycles d’imports entre modules de src/modules (${cycles.length >= MAX_CYCLES ? `au moins ${MAX_CYCLES}` : cycles.length}) :`);
for (const cycle of cycles) {
  console.error(`  ${cycle.join(' → ')}`);
  for (let i = 0; i < cycle.length - 1; i++) {
    const files = [...edges.get(cycle[i]).get(cycle[i + 1])].sort();
    console.error(`      ${cycle[i]} → ${cycle[i + 1]} : ${files.join(', ')}`);
  }
}
process.exit(1);
