import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Metafile } from 'esbuild';
import { distAJour } from '../../bin/dist.js';
import { build, builtCommand, productionEnv, ROOT, run, startUntil } from './production.ts';

/** Packages for the demo and the sandbox only: production must not load them. */
const DEMO_ONLY = ['oidc-provider', 'smtp-server', '@peculiar/x509'];

const dir = mkdtempSync(join(tmpdir(), 'quotient-build-'));
const dist = join(dir, 'dist');
let meta: Metafile;
before(async () => {
  // The bundle leaves packages in node_modules, found from where the build is, as in the checkout.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const result = await build(dist);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Construction terminée/);
  meta = JSON.parse(readFileSync(join(dist, 'meta.json'), 'utf8')) as Metafile;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Packages a command's chunk loads before it runs: static imports, followed through the shared
 * chunks; with `dynamic`, also those it may import while it runs.
 */
function staticPackages(command: string, dynamic = false): Set<string> {
  const outputs = meta.outputs;
  const start = Object.keys(outputs).find((o) => outputs[o]!.entryPoint === `src/cli/commands/${command}.ts`);
  assert.ok(start, `no chunk for ${command}`);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of outputs[file]!.imports) {
      if (imp.kind !== 'import-statement' && !(dynamic && imp.kind === 'dynamic-import')) continue;
      if (imp.external) packages.add(imp.path);
      else stack.push(imp.path);
    }
  }
  return packages;
}

test('serve does not load the demo-only packages; the demo does, when it runs', () => {
  const serve = staticPackages('serve');
  assert.ok(serve.has('fastify'), 'the analysis sees what serve loads');
  for (const name of DEMO_ONLY) assert.ok(!serve.has(name), `serve loads ${name}`);
  // The identity provider is imported when the demo starts it (its runtime notice filtered meanwhile).
  const demo = staticPackages('demo', true);
  assert.ok(demo.has('oidc-provider'), 'the demo starts its own identity provider');
  // The other light commands do not pay for the web server either.
  assert.ok(!staticPackages('simulate').has('fastify'));
});

test('the build is current until a source it was made from changes', () => {
  assert.equal(distAJour(ROOT, dist), true);
  const manifest = JSON.parse(readFileSync(join(dist, 'build-manifest.json'), 'utf8')) as { inputs: Record<string, string> };
  assert.ok('src/cli/main.ts' in manifest.inputs && 'src/http/app.ts' in manifest.inputs);
  // A copy of the manifest with one stamp changed stands for an edited source, without touching the tree.
  const edited = { ...manifest, inputs: { ...manifest.inputs, 'src/http/app.ts': '1:1' } };
  const staleDir = mkdtempSync(join(dir, 'stale-'));
  writeFileSync(join(staleDir, 'build-manifest.json'), JSON.stringify(edited));
  assert.equal(distAJour(ROOT, staleDir), false);
  assert.equal(distAJour(ROOT, join(dir, 'absent')), false);
  writeFileSync(join(staleDir, 'build-manifest.json'), '{ pas du json');
  assert.equal(distAJour(ROOT, staleDir), false);
});

test('the built command runs with plain node: version, simulate, and a production server with its pages and assets', async () => {
  const env = productionEnv(dir);
  const node = (args: string[]) => run(process.execPath, builtCommand(dist, args), { cwd: dir, env });
  const version = await node(['--version']);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  const simulate = await node(['simulate', '--policy', join(ROOT, 'examples/strasbourg.yaml'), '--rfr', '30000', '--parts', '3']);
  assert.equal(simulate.code, 0, simulate.stderr);
  assert.match(simulate.stdout, /Quotient familial\s:\s833,33\s€\spar mois/);
  for (const step of [['keys', 'init'], ['migrate']]) {
    const r = await node(step);
    assert.equal(r.code, 0, `${step.join(' ')}: ${r.stderr}`);
  }
  const server = await startUntil(
    process.execPath,
    builtCommand(dist, ['serve', '--sandbox', '--role', 'web']),
    { cwd: dir, env },
    /écoute sur 127\.0\.0\.1:(\d+)/,
  );
  try {
    const base = `http://127.0.0.1:${server.match[1]}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
    const home = await fetch(`${base}/`);
    assert.equal(home.status, 200);
    const html = await home.text();
    assert.match(html, /<html lang="fr"/);
    // Static assets are read from the checkout beside the build: the stylesheet the page links.
    const css = /href="(\/[^"]+\.css)"/.exec(html)?.[1];
    assert.ok(css, 'the page links a stylesheet');
    const style = await fetch(`${base}${css}`);
    assert.equal(style.status, 200);
    assert.match(await style.text(), /[{}]/);
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.equal(await server.exit, 0, server.output());
});
