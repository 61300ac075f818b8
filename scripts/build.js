#!/usr/bin/env node
// The production build: one esbuild bundle of the `quotient` command in dist/, run by plain node
// (bin/quotient.js picks it while it is current). Packages stay in node_modules (external);
// commands stay separate chunks loaded on demand (splitting), so `quotient simulate` does not load
// the web server. Files read at run time (assets, fixtures, examples, migrations are code) stay
// where they are in the checkout: `import.meta.url` is rewritten to each source file's own URL.
//
//   node scripts/build.js [--outdir DIR] [--if-stale]
//
// --if-stale builds only when dist/ is absent or older than the sources, and does nothing when
// esbuild is not installed (a production install without dev dependencies runs the sources).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { distAJour, MANIFEST, stamp } from '../bin/dist.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { outdir: { type: 'string' }, 'if-stale': { type: 'boolean', default: false } } });
const outdir = resolve(values.outdir ?? join(root, 'dist'));

if (values['if-stale'] && distAJour(root, outdir)) process.exit(0);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  if (values['if-stale']) process.exit(0);
  console.error('esbuild n’est pas installé : « npm install » (dépendances de développement) avant « npm run build ».');
  process.exit(1);
}

const toPosix = (p) => p.split(sep).join('/');

/** `import.meta.url` of a source file, as seen from a chunk in `outdir`. */
const metaUrlPlugin = {
  name: 'import-meta-url',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const loader = args.path.endsWith('x') ? 'tsx' : 'ts';
      if (!text.includes('import.meta.url')) return { contents: text, loader };
      const fromOut = JSON.stringify(toPosix(relative(outdir, args.path)));
      return { contents: text.replaceAll('import.meta.url', `new URL(${fromOut}, import.meta.url).href`), loader };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  // Every output beside main.js: the rewritten import.meta.url assumes one folder.
  chunkNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [metaUrlPlugin],
});

// Every file the bundle depends on, for bin/dist.js to tell when the build is out of date.
const inputs = {};
for (const file of Object.keys(result.metafile.inputs)) inputs[file] = stamp(join(root, file));
for (const file of ['package.json', 'tsconfig.json', 'scripts/build.js']) inputs[file] = stamp(join(root, file));
writeFileSync(join(outdir, MANIFEST), JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 1) + '\n');
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
const size = Object.values(result.metafile.outputs).reduce((total, o) => total + o.bytes, 0);
console.log(
  `Construction terminée : ${toPosix(relative(root, outdir) || '.')}/ (${Object.keys(result.metafile.outputs).length} fichiers, ${Math.round(size / 1024)} Kio), à partir de ${Object.keys(result.metafile.inputs).length} fichiers sources.`,
);
