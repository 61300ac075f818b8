import { userInfo } from 'node:os';
import { QuotientError } from '../../domain/errors.ts';
import {
  alerteDeTest,
  canauxDepuisConfig,
  creerCircuitAlerte,
  detailsDuRapport,
  GRAVITES,
  NOMS_CANAUX,
  type Gravite,
  type RapportAlerte,
} from '../../infra/alertes/index.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { auditFilesFor, JournalAudit } from '../../modules/audit/index.ts';
import { EXIT, argsDeSousCommande, parseCommandArgs, type CliCommand } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

const USAGE = [
  'quotient alertes tester [--gravite info|avertissement|critique] [--json]',
  '',
  'Envoie une alerte de test (« Test du circuit d’alerte ») par chaque canal configuré dans la section',
  '« securite.alertes » du fichier de la commune : courriel au RSSI et au DPO (avec QUOTIENT_SMTP_URL),',
  'webhook signé, syslog. Affiche pour chaque canal s’il a fonctionné, et inscrit le test au journal d’audit.',
  '',
  '  --gravite  gravité de l’alerte de test, pour essayer l’acheminement de ce niveau (défaut : critique)',
  '  --json     un objet JSON sur la sortie standard',
  '',
  'Codes de sortie : 0 chaque canal configuré a fonctionné, 1 un canal au moins a échoué,',
  '2 mauvaise utilisation, configuration invalide ou aucun canal configuré.',
].join('\n');

export const alertesCommand: CliCommand = {
  summary: 'Teste le circuit d’alerte (courriel, webhook, syslog) : quotient alertes tester [--json].',
  usage: USAGE,
  async run(argv, io) {
    const rest = argsDeSousCommande(argv, 'tester', USAGE);
    const { values } = parseCommandArgs({
      args: rest,
      options: { gravite: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.gravite !== undefined && !(GRAVITES as readonly string[]).includes(values.gravite)) {
      throw new QuotientError('invalid', 'usage_invalide', `Gravité inconnue : « ${values.gravite} » (attendu : ${GRAVITES.join(', ')}).`);
    }
    const gravite = values.gravite as Gravite | undefined;

    const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      const { config, database } = runtime;
      const canaux = canauxDepuisConfig(config);
      if (canaux.length === 0) {
        const message = `Aucun canal d’alerte n’est configuré : une alerte ne parviendrait à personne. Renseignez la section « securite.alertes » de ${config.configFile} (et QUOTIENT_SMTP_URL pour les courriels).`;
        if (values.json) io.out(JSON.stringify({ toutEnvoye: false, canaux: NOMS_CANAUX.map((canal) => ({ canal, etat: 'non_configure' })), erreur: message }));
        io.err(message);
        return EXIT.usage;
      }
      if (mode === 'demo') await migrate(runtime);
      else if ((await pendingMigrations(database.db)).length > 0) {
        io.err(`La base ${describeDatabase(config.databaseUrl)} n’est pas à jour : lancez « quotient migrate » d’abord.`);
        return EXIT.usage;
      }
      // Opened before sending: a test that could not be journaled is not run.
      const journal = await JournalAudit.open({ db: database.db, dialect: database.dialect, files: auditFilesFor(config), onAlert: (a) => io.err(a.message) });
      const actor = { type: 'systeme' as const, id: `cli:${userInfo().username}` };
      const alerte = alerteDeTest({ lanceePar: actor.id, ...(gravite ? { gravite } : {}) });
      const circuit = creerCircuitAlerte({ canaux });
      let rapport: RapportAlerte;
      try {
        rapport = await circuit.envoyerAlerte(alerte);
      } finally {
        await circuit.fermer();
      }
      io.out(values.json ? JSON.stringify(toJson(rapport)) : describe(rapport));
      await journal.append({
        actor,
        action: 'alertes.test',
        target: { type: 'alerte', id: alerte.id },
        outcome: rapport.toutEnvoye ? 'succes' : 'echec',
        details: { gravite: alerte.gravite, ...detailsDuRapport(rapport) },
      });
      return rapport.toutEnvoye ? EXIT.ok : EXIT.failure;
    } finally {
      await runtime.database.close();
    }
  },
};

function toJson(rapport: RapportAlerte) {
  return {
    alerteId: rapport.alerteId,
    toutEnvoye: rapport.toutEnvoye,
    canaux: NOMS_CANAUX.map((canal) => {
      const r = rapport.resultats.find((x) => x.canal === canal);
      return r === undefined
        ? { canal, etat: 'non_configure' }
        : { canal, etat: r.envoye ? 'envoye' : 'echec', destination: r.destination, compteRendu: r.compteRendu, dureeMs: r.dureeMs };
    }),
  };
}

function describe(rapport: RapportAlerte): string {
  const lines = NOMS_CANAUX.map((canal) => {
    const r = rapport.resultats.find((x) => x.canal === canal);
    return `${canal.padEnd(8)} : ${r === undefined ? 'aucun canal configuré' : r.compteRendu}`;
  });
  const failed = rapport.resultats.filter((r) => !r.envoye).length;
  lines.push(
    '',
    failed === 0
      ? `Test du circuit d’alerte réussi : chaque canal configuré a transmis l’alerte (référence ${rapport.alerteId}). Vérifiez auprès des destinataires qu’elle leur est parvenue.`
      : `Test du circuit d’alerte en échec : ${failed === 1 ? '1 canal' : `${failed} canaux`} sur ${rapport.resultats.length} ${failed === 1 ? 'n’a' : 'n’ont'} pas transmis l’alerte (référence ${rapport.alerteId}). Corrigez, puis relancez « quotient alertes tester ».`,
  );
  return lines.join('\n');
}
