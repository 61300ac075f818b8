import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  analyserSyslog,
  demarrerRecepteurSyslog,
  demarrerRecepteurWebhook,
  type RecepteurSyslog,
  type RecepteurWebhook,
} from '../../src/infra/alertes/test-support.ts';
import { openDatabase } from '../../src/infra/db/database.ts';
import { startCaptureSmtp, type CaptureSmtp } from '../../src/infra/mail/mailer.ts';
import { cliEnv, runCli, type CliResult } from './run-cli.ts';

const DEMO_COMMUNE = new URL('../../examples/commune-demo.yaml', import.meta.url).pathname;
const POLICY = new URL('../../examples/boulogne-billancourt.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'quotient-alertes-'));
const secret = randomBytes(32).toString('hex');
let smtp: CaptureSmtp;
let webhook: RecepteurWebhook;
let syslog: RecepteurSyslog;
let env: Record<string, string>;

function communeFile(name: string, secretFile: string): string {
  const file = join(dir, name);
  const securite = [
    'securite:',
    '  rssi: { nom: Responsable de la sécurité, email: rssi@exemple.fr }',
    '  alertes:',
    `    webhook: { url: "${webhook.url}", secretFile: ${secretFile} }`,
    `    syslog: { hote: 127.0.0.1, port: ${syslog.port}, transport: udp, facility: local0 }`,
  ].join('\n');
  writeFileSync(file, `${readFileSync(DEMO_COMMUNE, 'utf8').replace(/^politiqueTarifaire: .*$/m, `politiqueTarifaire: ${POLICY}`)}\n${securite}\n`);
  return file;
}

before(async () => {
  [smtp, webhook, syslog] = await Promise.all([startCaptureSmtp(), demarrerRecepteurWebhook({ secret }), demarrerRecepteurSyslog('udp')]);
  writeFileSync(join(dir, 'webhook.secret'), `${secret}\n`, { mode: 0o600 });
  const auditKey = join(dir, 'journal.key');
  writeFileSync(auditKey, randomBytes(32).toString('base64'), { mode: 0o600 });
  env = {
    QUOTIENT_CONFIG: communeFile('commune.yaml', 'webhook.secret'),
    QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
    QUOTIENT_DATA_DIR: join(dir, 'data'),
    QUOTIENT_AUDIT_KEY_FILE: auditKey,
    QUOTIENT_SMTP_URL: smtp.url,
    QUOTIENT_SMTP_FROM: 'Quotient <alertes@exemple.fr>',
  };
  const migrated = await run(['migrate']);
  assert.equal(migrated.code, 0, migrated.stderr);
});

after(async () => {
  await Promise.all([smtp.close(), webhook.close(), syslog.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: cliEnv({ QUOTIENT_LOG_LEVEL: 'warn' }, env, extra) });
}

async function journalEntries(): Promise<Array<{ outcome: string; target_id: string | null; details: Record<string, unknown> }>> {
  const database = openDatabase(env.QUOTIENT_DATABASE_URL as string);
  try {
    const rows = await database.db
      .selectFrom('journal_audit')
      .select(['outcome', 'target_id', 'details'])
      .where('action', '=', 'alertes.test')
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ outcome: r.outcome, target_id: r.target_id, details: JSON.parse(r.details) as Record<string, unknown> }));
  } finally {
    await database.close();
  }
}

test('with every receiver up: one line per channel, exit 0, each receiver got the test alert, the test is journaled', async () => {
  const result = await run(['alertes', 'tester']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^courriel : envoyé à rssi@exemple\.fr, dpo@exemple\.fr$/m);
  assert.match(result.stdout, /^webhook {2}: accepté par http:\/\/127\.0\.0\.1:\d+ \(HTTP 204\)$/m);
  assert.match(result.stdout, /^syslog {3}: transmis à 127\.0\.0\.1:\d+ \(udp\), sans accusé de réception$/m);
  assert.match(result.stdout, /Test du circuit d’alerte réussi/);
  const id = /référence ([A-Za-z0-9_-]+)\)/.exec(result.stdout)?.[1];
  assert.ok(id);

  assert.deepEqual(smtp.messages.map((m) => m.to[0]).sort(), ['dpo@exemple.fr', 'rssi@exemple.fr']);
  assert.ok(smtp.messages.every((m) => m.subject === '[Quotient – Ville de Démonstration] Alerte critique : Test du circuit d’alerte'));
  const [request] = await webhook.inbox.wait(1);
  assert.ok(request?.signatureValide);
  assert.equal(JSON.parse(request?.body ?? '{}').titre, 'Test du circuit d’alerte');
  const frame = analyserSyslog((await syslog.inbox.wait(1))[0] as Buffer);
  assert.equal(frame.pri, 16 * 8 + 2);
  assert.deepEqual([frame.sd[0]?.params.id, frame.sd[0]?.params.code], [id, 'alertes.test']);
  assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'the secret is never printed');
  assert.ok(!result.stdout.includes('jeton-dans-le-chemin'), 'nor the webhook path');

  const [entry] = await journalEntries();
  assert.deepEqual(entry, { outcome: 'succes', target_id: id, details: { gravite: 'critique', courriel: 'envoye', webhook: 'envoye', syslog: 'envoye' } });
  const verify = await run(['audit', 'verify']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test('with the webhook receiver down: the others still deliver, the failure is named, exit 1, journaled as a failure', async () => {
  const before = { mails: smtp.messages.length, syslog: syslog.inbox.items.length };
  await webhook.close();
  const result = await run(['alertes', 'tester', '--json', '--gravite', 'avertissement']);
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.toutEnvoye, false);
  assert.deepEqual(
    report.canaux.map((c: { canal: string; etat: string }) => [c.canal, c.etat]),
    [
      ['courriel', 'envoye'],
      ['webhook', 'echec'],
      ['syslog', 'envoye'],
    ],
  );
  assert.match(report.canaux[1].compteRendu, /^injoignable \(connexion refusée\) par http:\/\/127\.0\.0\.1:\d+, après 2 essais$/);
  assert.equal(smtp.messages.length, before.mails + 2);
  await syslog.inbox.wait(before.syslog + 1);

  const entries = await journalEntries();
  const last = entries.at(-1);
  assert.equal(last?.outcome, 'echec');
  assert.equal(last?.target_id, report.alerteId);
  assert.equal(last?.details.webhook, 'echec');
  assert.match(String(last?.details.webhook_raison), /injoignable/);
  assert.equal(last?.details.gravite, 'avertissement');
});

test('a missing secret file, a bad option or no channel at all is a usage error (2) in French, without a stack trace', async () => {
  const missing = await run(['alertes', 'tester'], { QUOTIENT_CONFIG: communeFile('sans-secret.yaml', 'absent.secret') });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /securite\.alertes\.webhook\.secretFile : fichier introuvable ou illisible/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const bad = await run(['alertes', 'tester', '--gravite', 'grave']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Gravité inconnue : « grave »/);
  const usage = await run(['alertes', 'envoyer']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Sous-commande inconnue : « envoyer »/);
  const none = await run(['alertes', 'tester'], { QUOTIENT_CONFIG: DEMO_COMMUNE, QUOTIENT_SMTP_URL: undefined, QUOTIENT_SMTP_FROM: undefined });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /Aucun canal d’alerte n’est configuré/);
});
