/**
 * The systemd units of deploy/systemd: each hardening option present on every service, the backup
 * timer's schedule within the promised RPO (24 h, computed by systemd-analyze calendar), and
 * `systemd-analyze verify` clean on the three units where systemd's tools are installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const DIR = new URL('../../deploy/systemd/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'quotient-systemd-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `Key=value` lines by section; a key given several times keeps every value, in order. */
function unit(file: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(join(DIR, file), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(m, `${file}: unreadable line ${line}`);
    const key = `${section}.${m[1]}`;
    keys.set(key, [...(keys.get(key) ?? []), m[2]!]);
  }
  return keys;
}

const one = (u: Map<string, string[]>, key: string) => u.get(key)?.at(-1);
const SERVICES = ['quotient@.service', 'quotient-backup.service'];
const analyze = existsSync('/usr/bin/systemd-analyze') || spawnSync('systemd-analyze', ['--version']).status === 0;

test('every service runs unprivileged, with the hardening options, and writes only the data folder', () => {
  for (const file of SERVICES) {
    const u = unit(file);
    const expect = (key: string, value: string) => assert.equal(one(u, `Service.${key}`), value, `${file}: ${key}`);
    expect('User', 'quotient');
    expect('NoNewPrivileges', 'yes');
    expect('ProtectSystem', 'strict');
    expect('ProtectHome', 'yes');
    expect('PrivateTmp', 'yes');
    expect('CapabilityBoundingSet', '');
    expect('UMask', '0077');
    expect('StateDirectoryMode', '0700');
    assert.deepEqual(u.get('Service.SystemCallFilter')?.[0], '@system-service', `${file}: SystemCallFilter`);
    assert.ok(one(u, 'Service.ReadWritePaths')?.split(' ').includes('/var/lib/quotient'), `${file}: ReadWritePaths`);
    // V8's JIT needs pages that become executable: this option would stop node at start.
    assert.equal(u.has('Service.MemoryDenyWriteExecute'), false, `${file}: MemoryDenyWriteExecute must stay off`);
    assert.match(readFileSync(join(DIR, file), 'utf8'), /MemoryDenyWriteExecute[^\n]*\n?[^\n]*(V8|JIT)/, `${file} says why`);
  }
  const server = unit('quotient@.service');
  assert.equal(one(server, 'Service.ExecStart'), '/usr/bin/node /opt/quotient/bin/quotient.js serve --role %i');
  // A configuration error (exit 2) is not retried in a loop.
  assert.equal(one(server, 'Service.RestartPreventExitStatus'), '2');
  // The stop waits longer than the server's own grace period (10 s).
  assert.ok(Number.parseInt(one(server, 'Service.TimeoutStopSec') ?? '0', 10) > 10);
});

test('the backup runs every day (RPO ≤ 24 h), catches up after a stop, and writes its own folder', () => {
  const timer = unit('quotient-backup.timer');
  assert.equal(one(timer, 'Timer.Unit'), 'quotient-backup.service');
  assert.equal(one(timer, 'Timer.Persistent'), 'yes', 'a run missed while the machine was off happens at boot');
  const backup = unit('quotient-backup.service');
  assert.equal(one(backup, 'Service.Type'), 'oneshot');
  assert.match(one(backup, 'Service.ExecStart') ?? '', / backup --dossier (\/\S+)$/);
  const folder = / backup --dossier (\/\S+)$/.exec(one(backup, 'Service.ExecStart') ?? '')?.[1] ?? '';
  assert.ok(one(backup, 'Service.ReadWritePaths')?.split(' ').includes(folder), 'the archives folder is writable');
  // Old archives go only after a backup that worked.
  assert.match(one(backup, 'Service.ExecStartPost') ?? '', new RegExp(`^/usr/bin/find ${folder} .*-mtime \\+\\d+ -delete$`));
  // A random delay drawn anew each day could stretch the gap beyond 24 h; a fixed one cannot.
  const randomized = one(timer, 'Timer.RandomizedDelaySec');
  if (randomized !== undefined && randomized !== '0') assert.equal(one(timer, 'Timer.FixedRandomDelay'), 'yes');
});

test('systemd-analyze: the calendar gives runs at most 24 h apart, and verify finds nothing', (t) => {
  if (!analyze) {
    t.skip('systemd-analyze absent : calendrier et « verify » non vérifiés');
    return;
  }
  const schedule = unit('quotient-backup.timer').get('Timer.OnCalendar') ?? [];
  assert.ok(schedule.length > 0);
  const calendar = spawnSync('systemd-analyze', ['calendar', '--iterations=5', ...schedule], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  assert.equal(calendar.status, 0, calendar.stderr);
  const runs = [...calendar.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC/g)]
    .map((m) => Date.parse(`${m[1]!.replace(' ', 'T')}Z`))
    .sort((a, b) => a - b);
  assert.ok(runs.length >= 5, calendar.stdout);
  for (let i = 1; i < runs.length; i++) assert.ok(runs[i]! - runs[i - 1]! <= 24 * 3600_000, `gap between runs ${i - 1} and ${i}`);

  // The node binary's place depends on the installation: the copies name this machine's node.
  for (const file of readdirSync(DIR)) {
    const text = readFileSync(join(DIR, file), 'utf8').replaceAll('/usr/bin/node ', `${process.execPath} `);
    writeFileSync(join(work, file === 'quotient@.service' ? 'quotient@web.service' : file), text);
  }
  cpSync(join(work, 'quotient@web.service'), join(work, 'quotient@worker.service'));
  const verify = spawnSync(
    'systemd-analyze',
    ['verify', '--man=no', './quotient@web.service', './quotient@worker.service', './quotient-backup.service', './quotient-backup.timer'],
    {
      cwd: work,
      encoding: 'utf8',
    },
  );
  // verify only warns (status 0) about an unknown or misspelt key: its output must be empty too.
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', verify.stderr);
});
