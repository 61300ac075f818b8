import { userInfo } from 'node:os';
import { auditFilesFor, JournalAudit } from '../../modules/audit/index.ts';
import { QuotientError } from '../../domain/errors.ts';
import { loadConfig, type RunMode } from '../../infra/config/config.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { Coffre } from '../../infra/silo/coffre.ts';
import { KeyringFile, keyringFileOf, openKeyringFile } from '../../infra/silo/keyring.ts';
import { rotateMasterKey } from '../../infra/silo/rotation.ts';
import { EXIT, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';
import type { Runtime } from '../../app/compose.ts';
import { describeDatabase, openRuntime } from '../runtime.ts';

const ACTIONS = ['init', 'status', 'rotate'] as const;
type Action = (typeof ACTIONS)[number];

const number = new Intl.NumberFormat('fr-FR');
const seconds = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
const records = (n: number) => `${number.format(n)} enregistrement${n > 1 ? 's' : ''}`;
/** `one` for 0 and 1, `many` above, as French agrees. */
const agree = (n: number, one: string, many: string) => (n > 1 ? many : one);

export const keysCommand: CliCommand = {
  summary: 'Clés maîtresses du coffre : quotient keys init | status | rotate.',
  usage: [
    'quotient keys init | status | rotate',
    '',
    '  init    crée le fichier des clés maîtresses (droits 0600) ; ne remplace jamais un fichier existant.',
    '  status  affiche les clés, la clé active et le nombre d’enregistrements chiffrés sous chacune.',
    '  rotate  crée une nouvelle clé maîtresse, la rend active, rechiffre toutes les clés de données',
    '          (l’application peut continuer à fonctionner), puis retire l’ancienne clé du fichier.',
    '',
    'Le fichier est désigné par QUOTIENT_MASTER_KEY_FILE (obligatoire en production) ; en démonstration,',
    'il se trouve dans le dossier de données (QUOTIENT_DATA_DIR). Sauvegardez-le à part de la base :',
    'sans lui, les données du coffre sont illisibles.',
  ].join('\n'),
  async run(argv, io) {
    const { positionals } = parseCommandArgs({ args: argv, options: {}, strict: true, allowPositionals: true });
    const [action, ...extra] = positionals;
    if (action === undefined || !ACTIONS.includes(action as Action) || extra.length > 0) {
      throw new QuotientError(
        'invalid',
        'usage_invalide',
        `Utilisation : quotient keys init | status | rotate${action === undefined ? '' : ` (« ${[action, ...extra].join(' ')} » n’est pas reconnu)`}.`,
      );
    }
    // As for `quotient migrate`: without a commune file, the demo's defaults apply.
    const mode: RunMode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    if (action === 'init') return init(io, mode);
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      const pending = await pendingMigrations(runtime.database.db);
      if (pending.length > 0) {
        io.err(
          `La base ${describeDatabase(runtime.config.databaseUrl)} n’est pas à jour (${pending.length} migration(s) en attente) : lancez « quotient migrate » d’abord.`,
        );
        return EXIT.usage;
      }
      return action === 'status' ? await status(io, runtime) : await rotate(io, runtime);
    } finally {
      await runtime.database.close();
    }
  },
};

function init(io: CliIo, mode: RunMode): number {
  const config = loadConfig(io.env, { mode, cwd: io.cwd });
  const { path } = keyringFileOf(config);
  const file = KeyringFile.create(path);
  io.out(`Fichier des clés du coffre créé : ${path} (droits 0600), clé active « ${file.current().activeId} ».`);
  io.out('Sauvegardez-le à part de la base de données : sans lui, les données du coffre sont illisibles.');
  return EXIT.ok;
}

async function status(io: CliIo, runtime: Runtime): Promise<number> {
  const { path } = keyringFileOf(runtime.config);
  const file = KeyringFile.open(path);
  const coffre = new Coffre({ db: runtime.database.db, dialect: runtime.database.dialect, keyring: file });
  const usage = await coffre.usage();
  const keyring = file.current();
  io.out(`Fichier des clés : ${path}`);
  io.out(`Base : ${describeDatabase(runtime.config.databaseUrl)}`);
  const ids = [...new Set([...keyring.ids, ...usage.filter((u) => u.retiredAt === null || u.records > 0).map((u) => u.keyId)])];
  const problems: string[] = [];
  for (const id of ids) {
    const inDb = usage.find((u) => u.keyId === id);
    const tags = [
      inDb?.active ? 'active' : keyring.activeId === id && inDb === undefined ? 'active au prochain chiffrement' : undefined,
      keyring.key(id) === undefined ? 'absente du fichier' : undefined,
      inDb?.inKeyring === 'mismatch' ? 'différente de celle qui a chiffré les données' : undefined,
    ].filter((t) => t !== undefined);
    io.out(`  ${id} : ${records(inDb?.records ?? 0)}${tags.length > 0 ? ` (${tags.join(', ')})` : ''}`);
    if (inDb !== undefined && inDb.records > 0 && inDb.inKeyring !== 'present') {
      const why = inDb.inKeyring === 'missing' ? 'absente du fichier' : 'qui ne correspond pas au fichier';
      problems.push(`${records(inDb.records)} sous la clé « ${id} » ${why} : ${agree(inDb.records, 'illisible', 'illisibles')}.`);
    }
  }
  const dbActive = usage.find((u) => u.active)?.keyId;
  if (dbActive !== undefined && dbActive !== keyring.activeId) {
    problems.push(
      `La base utilise la clé « ${dbActive} » mais le fichier désigne « ${keyring.activeId} » : une rotation a été interrompue, relancez « quotient keys rotate ».`,
    );
  }
  for (const problem of problems) io.err(`Attention : ${problem}`);
  if (problems.length === 0) io.out('Toutes les données du coffre sont lisibles avec ce fichier de clés.');
  return problems.length === 0 ? EXIT.ok : EXIT.failure;
}

async function rotate(io: CliIo, runtime: Runtime): Promise<number> {
  const file = openKeyringFile(runtime.config);
  const coffre = new Coffre({ db: runtime.database.db, dialect: runtime.database.dialect, keyring: file });
  const previous = file.current().activeId;
  let lastReport = performance.now();
  const result = await rotateMasterKey(coffre, file, {
    onProgress: (p) => {
      // A large silo takes a while: say it is moving, about once every two seconds.
      if (performance.now() - lastReport < 2000) return;
      lastReport = performance.now();
      io.out(
        `  … ${records(p.scanned)} ${agree(p.scanned, 'examiné', 'examinés')}, ${number.format(p.rewrapped)} ${agree(p.rewrapped, 'rechiffré', 'rechiffrés')}`,
      );
    },
  });
  // Every action is one journal entry: who rotated, which key is now active, how it went.
  const journal = await JournalAudit.open({
    db: runtime.database.db,
    dialect: runtime.database.dialect,
    files: auditFilesFor(runtime.config),
    onAlert: (a) => io.err(a.message),
  });
  await journal.append({
    actor: { type: 'systeme', id: `cli:${userInfo().username}` },
    action: 'coffre.rotation',
    outcome: result.failures.length === 0 ? 'succes' : 'echec',
    details: { nouvelleCle: result.newKeyId, rechiffrees: result.rewrapped, echecs: result.failures.length, retirees: result.retired.length },
  });
  io.out(`Nouvelle clé maîtresse active : « ${result.newKeyId} » (fichier ${file.path}).`);
  io.out(
    `Clés de données rechiffrées : ${number.format(result.rewrapped)} en ${seconds.format(result.durationMs / 1000)} s` +
      (result.changedMeanwhile > 0
        ? ` ; ${records(result.changedMeanwhile)} ${agree(result.changedMeanwhile, 'réécrit', 'réécrits')} par l’application pendant la rotation, déjà sous la nouvelle clé.`
        : '.'),
  );
  if (result.retired.length > 0) {
    const n = result.retired.length;
    io.out(
      `${agree(n, 'Clé retirée', 'Clés retirées')} du fichier, plus aucun enregistrement ne ${agree(n, 'l’utilise', 'les utilise')} : ${result.retired.map((id) => `« ${id} »`).join(', ')}.`,
    );
  } else io.out(`Aucune ancienne clé à retirer (la clé précédente était « ${previous} »).`);
  if (result.failures.length === 0 && result.kept.length === 0) return EXIT.ok;

  const failed = result.failures.length;
  if (failed > 0) {
    io.err(`Attention : ${records(failed)} ${agree(failed, 'n’a pas pu être rechiffré', 'n’ont pas pu être rechiffrés')} (données altérées ou clé absente) :`);
  }
  for (const f of result.failures.slice(0, 20)) io.err(`  - ${f.kind} ${f.id} : ${f.code}`);
  if (failed > 20) io.err(`  … et ${number.format(failed - 20)} ${agree(failed - 20, 'autre', 'autres')}.`);
  for (const k of result.kept)
    io.err(`Clé « ${k.keyId} » conservée dans le fichier : ${records(k.records)} ${agree(k.records, 'l’utilise', 'l’utilisent')} encore.`);
  return EXIT.failure;
}
