/**
 * The Containerfile, read as a builder would: its stages and directives. What can be checked without
 * a container engine is checked here (non-root, health check, production build, no development
 * dependency in the image, the files the build needs at run time); the image itself is built and
 * started only where a container daemon answers, and that test says loudly when it cannot run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const TEXT = readFileSync(`${ROOT}Containerfile`, 'utf8');

interface Directive {
  readonly instruction: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly directives: Directive[];
}

/** Directives with their continuation lines joined, comments dropped; ARG defaults substituted in FROM. */
function parse(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue; // comments, also between continued lines
    const continued = /\\\s*$/.test(line);
    current += (current ? ' ' : '') + line.replace(/\\\s*$/, '').trim();
    if (!continued) {
      if (current.trim()) logical.push(current.trim());
      current = '';
    }
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^([A-Z]+)\s+([^]*)$/.exec(line);
    assert.ok(m, `unreadable line: ${line}`);
    const [, instruction = '', rest = ''] = m;
    if (instruction === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args.set(name, value);
      continue;
    }
    if (instruction === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      const resolved = image.replace(/^\$\{(\w+)\}$/, (_, arg: string) => args.get(arg) ?? `\${${arg}}`);
      stages.push({ image: resolved, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), directives: [] });
      continue;
    }
    assert.ok(stages.length > 0, `${instruction} before any FROM`);
    stages[stages.length - 1]!.directives.push({ instruction, args: rest });
  }
  return { args, stages };
}

const { stages } = parse(TEXT);
const final = stages[stages.length - 1]!;
const inFinal = (instruction: string) => final.directives.filter((d) => d.instruction === instruction);
const stageNamed = (name: string) => stages.find((s) => s.name === name);

test('the image runs on a Node 24 base named by tag or digest, and the build stages too', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  for (const stage of stages) assert.match(stage.image, /^(docker\.io\/library\/)?node:24(\.[0-9]+){0,2}(-[a-z]+)*(@sha256:[0-9a-f]{64})?$/, stage.image);
});

test('the process runs as a named non-root account, set before it starts', () => {
  const users = inFinal('USER');
  assert.equal(users.length, 1, 'one USER in the final stage');
  const [user = '', group] = users[0]!.args.split(':');
  assert.notEqual(user, 'root');
  assert.notEqual(user, '0');
  assert.notEqual(group, 'root');
  assert.notEqual(group, '0');
  const index = final.directives.indexOf(users[0]!);
  const entry = final.directives.findIndex((d) => d.instruction === 'ENTRYPOINT');
  assert.ok(entry > index, 'ENTRYPOINT after USER');
  // The account is created in the image, with a fixed id (volumes keep their owner across rebuilds).
  assert.ok(inFinal('RUN').some((d) => new RegExp(`useradd[^]*--uid [1-9][0-9]{3,}[^]*\\b${user}\\b`).test(d.args)));
});

test('a health check calls /healthz without curl (absent from the slim image)', () => {
  const checks = inFinal('HEALTHCHECK');
  assert.equal(checks.length, 1);
  const check = checks[0]!.args;
  assert.match(check, /--interval=\d+s/);
  assert.match(check, /--timeout=\d+s/);
  assert.match(check, /CMD \["node"/);
  assert.match(check, /\/healthz/);
  assert.match(check, /process\.env\.QUOTIENT_PORT/);
});

test('the final stage holds production dependencies only, installed by npm ci --omit=dev', () => {
  const copies = inFinal('COPY');
  assert.ok(copies.length > 0);
  for (const copy of copies) assert.match(copy.args, /^--from=\w+/, `the final stage copies from stages only, never the context: COPY ${copy.args}`);
  const modules = copies.filter((c) => /node_modules/.test(c.args));
  assert.equal(modules.length, 1, 'node_modules copied once');
  const from = /^--from=(\w+)/.exec(modules[0]!.args)?.[1] ?? '';
  const deps = stageNamed(from);
  assert.ok(deps, `stage ${from}`);
  const installs = deps.directives.filter((d) => d.instruction === 'RUN' && /\bnpm (ci|install|i)\b/.test(d.args));
  assert.equal(installs.length, 1);
  assert.match(installs[0]!.args, /\bnpm ci --omit=dev\b/);
  // No npm install in the image itself, and nothing else copied from the stage with dev dependencies.
  for (const run of inFinal('RUN')) assert.doesNotMatch(run.args, /\bnpm (ci|install|i)\b/);
  const build = stages.find((s) => s.directives.some((d) => d.instruction === 'RUN' && /npm run build/.test(d.args)));
  assert.ok(build?.name, 'a named build stage runs npm run build');
  for (const copy of copies.filter((c) => c.args.startsWith(`--from=${build.name} `))) assert.doesNotMatch(copy.args, /node_modules/);
});

test('the image runs the compiled build with plain node, and refuses to be built otherwise', () => {
  const entry = inFinal('ENTRYPOINT')[0]?.args ?? '';
  assert.deepEqual(JSON.parse(entry), ['node', '/app/bin/quotient.js']);
  assert.ok(
    inFinal('RUN').some((d) => /distAJour\('\/app'\)[^]*process\.exit\(1\)/.test(d.args)),
    'the build checks dist/ is current',
  );
  assert.match(inFinal('ENV')[0]?.args ?? '', /NODE_ENV=production/);
  // Every file the build's manifest checks besides the sources (scripts/build.js) reaches the image.
  const builder = readFileSync(`${ROOT}scripts/build.js`, 'utf8');
  const recorded = /for \(const file of (\[[^\]]+\])\) inputs\[file\]/.exec(builder)?.[1];
  assert.ok(recorded, 'scripts/build.js lists the extra files it records');
  const assembly = stageNamed('build')!.directives.find((d) => d.instruction === 'RUN' && /\/out/.test(d.args))!.args;
  for (const file of JSON.parse(recorded.replaceAll("'", '"')) as string[]) assert.ok(assembly.includes(` ${file} `), `${file} copied to the image`);
  for (const needed of ['bin', 'dist', 'src', 'examples', 'package.json']) assert.match(assembly, new RegExp(`cp -a [^&]*\\b${needed}\\b`), needed);
});

test('data live in one volume owned by the account, 0700; the rest can be mounted read-only', () => {
  const env = inFinal('ENV')
    .map((d) => d.args)
    .join(' ');
  const dataDir = /QUOTIENT_DATA_DIR=(\S+)/.exec(env)?.[1];
  assert.ok(dataDir);
  assert.match(env, new RegExp(`QUOTIENT_DATABASE_URL=sqlite:${dataDir}/`));
  assert.deepEqual(JSON.parse(inFinal('VOLUME')[0]?.args ?? '[]'), [dataDir]);
  assert.ok(inFinal('RUN').some((d) => new RegExp(`install -d -o quotient -g quotient -m 0700 ${dataDir}`).test(d.args)));
});

test('the build context leaves out local data, secrets and installed packages', () => {
  const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  for (const entry of ['.git', 'node_modules', 'data', 'dist', '*.key', '*.pem', '.env', '*.qsauv']) assert.ok(ignored.includes(entry), entry);
});

/** Whether a Docker daemon answers (the client alone is not enough). */
function daemon(): string | undefined {
  const probe = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.error) return 'pas de client docker sur cette machine';
  if (probe.status !== 0) return `aucun démon docker ne répond (${(probe.stderr || probe.stdout).trim().split('\n')[0]})`;
  return undefined;
}

test('built and started where a container daemon answers: non-root, read-only root, healthy', (t) => {
  const absent = process.env.QUOTIENT_TEST_CONTAINER === '0' ? 'QUOTIENT_TEST_CONTAINER=0' : daemon();
  if (absent) {
    t.skip(`construction de l’image non testée : ${absent}`);
    return;
  }
  const tag = `quotient-test:${process.pid}`;
  const run = (args: string[], timeout = 60_000) => spawnSync('docker', args, { cwd: ROOT, encoding: 'utf8', timeout });
  const built = run(['build', '-f', 'Containerfile', '-t', tag, '.'], 900_000);
  assert.equal(built.status, 0, built.stderr);
  const name = `quotient-test-${process.pid}`;
  try {
    assert.equal(run(['run', '--rm', '--entrypoint', 'id', tag, '-u']).stdout.trim(), '10001');
    // The demo needs no configuration: it proves the start on a read-only root with the data volume.
    const started = run(['run', '-d', '--name', name, '--read-only', '--tmpfs', '/tmp', '--cap-drop=ALL', '--security-opt=no-new-privileges', tag, 'demo']);
    assert.equal(started.status, 0, started.stderr);
    let health = '';
    for (let i = 0; i < 60 && health !== 'healthy'; i++) {
      health = run(['inspect', '--format', '{{.State.Health.Status}}', name]).stdout.trim();
      if (health !== 'healthy') spawnSync('sleep', ['2']);
    }
    assert.equal(health, 'healthy', run(['logs', name]).stdout);
  } finally {
    run(['rm', '-f', '-v', name]);
    run(['rmi', '-f', tag]);
  }
});
