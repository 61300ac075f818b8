import { pendingMigrations } from '../../infra/db/migrations.ts';
import { auditFilesFor } from '../../modules/audit/audit-anchor.ts';
import { verifyJournal, type VerificationReport } from '../../modules/audit/audit-chain.ts';
import { EXIT, argsDeSousCommande, parseCommandArgs, type CliCommand } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

const USAGE = [
  'quotient audit verify [--json]',
  '',
  'Recalcule toute la chaîne du journal d’audit (empreintes SHA-256 et sceaux) et la compare à',
  'l’ancre signée conservée hors de la base (QUOTIENT_AUDIT_ANCHOR_FILE, clé QUOTIENT_AUDIT_KEY_FILE).',
  '',
  '  --json    un objet JSON sur la sortie standard',
  '',
  'Codes de sortie : 0 journal intact, 1 journal altéré (la première séquence rompue est indiquée), 2 mauvaise utilisation.',
].join('\n');

export const auditCommand: CliCommand = {
  summary: 'Vérifie l’intégrité du journal d’audit : quotient audit verify [--json].',
  usage: USAGE,
  async run(argv, io) {
    const rest = argsDeSousCommande(argv, 'verify', USAGE);
    const { values } = parseCommandArgs({ args: rest, options: { json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
    const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      const where = describeDatabase(runtime.config.databaseUrl);
      if (mode === 'demo') await migrate(runtime);
      else if ((await pendingMigrations(runtime.database.db)).length > 0) {
        io.err(`La base ${where} n’est pas à jour : lancez « quotient migrate » d’abord.`);
        return EXIT.usage;
      }
      const report = await verifyJournal(runtime.database.db, runtime.database.dialect, auditFilesFor(runtime.config));
      if (values.json) io.out(JSON.stringify(toJson(report)));
      else io.out(describe(report, where));
      return report.intact ? EXIT.ok : EXIT.failure;
    } finally {
      await runtime.database.close();
    }
  },
};

function toJson(report: VerificationReport) {
  return {
    intact: report.intact,
    premiereSequenceRompue: report.firstBrokenSeq,
    raison: report.reason,
    message: report.message,
    entreesVerifiees: report.checked,
    premiereSequence: report.firstSeq,
    derniereSequence: report.lastSeq,
    ancre: { etat: report.anchor.state, sequence: report.anchor.seq, ecriteLe: report.anchor.at },
    pointDeControle: report.checkpoint && {
      premiereSequenceConservee: report.checkpoint.firstKeptSeq,
      sequencePurge: report.checkpoint.purgeSeq,
      entreesPurgees: report.checkpoint.purgedCount,
      avant: report.checkpoint.purgedBefore,
    },
    dureeMs: report.durationMs,
  };
}

function describe(report: VerificationReport, where: string): string {
  const n = new Intl.NumberFormat('fr-FR');
  const lines = [`Base ${where}.`, report.message];
  if (report.checkpoint !== null) {
    lines.push(
      `Point de contrôle : ${n.format(report.checkpoint.purgedCount)} entrée(s) antérieure(s) au ${report.checkpoint.purgedBefore.slice(0, 10)} purgée(s) ; chaîne vérifiée depuis la séquence n° ${report.checkpoint.firstKeptSeq}.`,
    );
  }
  if (report.anchor.state === 'valide' && report.anchor.seq !== null) {
    const lag = report.lastSeq !== null && report.intact ? report.lastSeq - report.anchor.seq : 0;
    lines.push(`Ancre externe : séquence n° ${report.anchor.seq}${lag > 0 ? ` (en retard de ${lag} entrée(s), rattrapée au prochain ajout)` : ''}.`);
  }
  if (report.checked > 0 && report.durationMs > 0) {
    lines.push(`Durée : ${n.format(report.durationMs / 1000)} s (${n.format(Math.round((report.checked * 1000) / report.durationMs))} entrées par seconde).`);
  }
  if (!report.intact) lines.push('Conservez la base et les fichiers en l’état et prévenez le RSSI : ce constat est une preuve.');
  return lines.join('\n');
}
