import { userInfo } from 'node:os';
import { derniereAnneeImposee } from '../../domain/annee-imposition.ts';
import { composeServices } from '../../app/compose.ts';
import { formatDateCourte } from '../../domain/dates.ts';
import { QuotientError } from '../../domain/errors.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { LIBELLES_SITUATION_FAMILLE, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { isSourceFiscaleError } from '../../sources/fiscal-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { EXIT, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

/** Exit statuses of `quotient dgfip check` (ARCHITECTURE §5). */
export const CHECK_EXIT = { found: 0, notFound: 3, yearNotTaxed: 4, upstream: 5 } as const;

const USAGE = [
  'quotient dgfip check --spi NUMERO_FISCAL [--annee ANNEE] [--json]',
  '',
  'Teste la connexion à la DGFiP (ou au bac à sable intégré si DGFIP_BASE_URL n’est pas renseignée) :',
  'affiche la situation fiscale normalisée et minimisée. Le numéro fiscal n’est jamais réaffiché.',
  '',
  '  --spi     numéro fiscal à 13 chiffres (espaces acceptés)',
  '  --annee   année des revenus (par défaut : la dernière imposée)',
  '  --json    un objet JSON sur la sortie standard',
  '',
  'Codes de sortie : 0 trouvé, 3 inconnu, 4 année pas encore imposée, 5 échec côté DGFiP,',
  '2 mauvaise utilisation (y compris une année hors de l’habilitation, ou une requête que la DGFiP refuse comme mal formée),',
  '1 appels suspendus (mesure d’incident, ou arrêt d’intégrité : journal d’audit altéré) ou autre échec.',
].join('\n');

export const dgfipCommand: CliCommand = {
  summary: 'Teste la connexion à la DGFiP : quotient dgfip check --spi NUMERO [--annee ANNEE] [--json].',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub !== 'check') {
      throw new QuotientError(
        'invalid',
        'usage_invalide',
        `Sous-commande ${sub === undefined ? 'manquante' : `inconnue : « ${sub} »`}. Usage : ${USAGE.split('\n')[0]}`,
      );
    }
    const { values } = parseCommandArgs({
      args: rest,
      options: { spi: { type: 'string' }, annee: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.spi === undefined) throw new QuotientError('invalid', 'usage_invalide', 'Indiquez le numéro fiscal avec --spi.');
    const spi = NumeroFiscal.parse(values.spi);
    let annee: number | undefined;
    if (values.annee !== undefined) {
      if (!/^[0-9]{4}$/.test(values.annee))
        throw new QuotientError(
          'invalid',
          'usage_invalide',
          `Année invalide : « ${values.annee} » (4 chiffres attendus, par exemple ${derniereAnneeImposee(parisDate(Date.now()))}).`,
        );
      annee = Number(values.annee);
    }

    const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      if (mode === 'demo') await migrate(runtime);
      else if ((await pendingMigrations(runtime.database.db)).length > 0) {
        io.err(`La base ${describeDatabase(runtime.config.databaseUrl)} n’est pas à jour : lancez « quotient migrate » d’abord.`);
        return EXIT.usage;
      }
      // A one-shot check: no processing loop, nothing in the background.
      const services = await composeServices(runtime, { background: false, onAlert: (a) => io.err(a.message) });
      const { journal, dgfip } = services;
      // The operator who ran the check, as the system knows them: the account of the shell.
      const actor = { type: 'systeme' as const, id: `cli:${userInfo().username}` };
      try {
        const where = dgfip.connection.sandbox ? 'bac à sable intégré' : new URL(dgfip.connection.baseUrl).host;
        // No call while they are held: the integrity halt (checked as the services started) or the switch.
        const suspension = await services.incident.suspensionAppels();
        if (suspension) {
          const raison = suspension.cause === 'integrite' ? 'arret_integrite' : 'appels_suspendus';
          await journal.append({ actor, action: 'dgfip.check', outcome: 'refus', details: { raison, bacASable: dgfip.connection.sandbox } });
          const message =
            suspension.cause === 'integrite'
              ? 'Appel refusé : le journal d’audit est altéré (quotient audit verify) et les opérations fiscales sont arrêtées jusqu’à ce qu’un auditeur reconnaisse l’altération après enquête.'
              : 'Appel refusé : les appels à la DGFiP sont suspendus par une mesure d’incident (quotient incident etat ; pour reprendre : quotient incident reprendre-dgfip --motif « … »).';
          if (values.json) io.out(JSON.stringify({ erreur: { raison, message } }));
          io.err(message);
          return EXIT.failure;
        }
        try {
          const situation = await dgfip.clients.impotParticulier.parNumeroFiscal(spi, annee === undefined ? {} : { anneeRevenus: annee });
          await journal.append({
            actor,
            action: 'dgfip.check',
            outcome: 'succes',
            details: { anneeRevenus: situation.anneeRevenus, bacASable: dgfip.connection.sandbox },
          });
          io.out(values.json ? JSON.stringify(situation) : describe(situation, where));
          return CHECK_EXIT.found;
        } catch (error) {
          if (!isSourceFiscaleError(error)) throw error;
          await journal.append({
            actor,
            action: 'dgfip.check',
            outcome: 'echec',
            ...(error.correlationId ? { correlationId: error.correlationId } : {}),
            details: { raison: error.raison, bacASable: dgfip.connection.sandbox },
          });
          return report(io, error.raison, error.message, error.correlationId, values.json);
        }
      } finally {
        await services.stop();
      }
    } finally {
      await runtime.database.close();
    }
  },
};

function report(io: CliIo, raison: string, message: string, correlationId: string | undefined, json: boolean): number {
  const status =
    raison === 'introuvable'
      ? CHECK_EXIT.notFound
      : raison === 'annee_indisponible'
        ? CHECK_EXIT.yearNotTaxed
        : raison === 'numero_fiscal_invalide' || raison === 'requete_refusee' || raison === 'annee_hors_habilitation'
          ? EXIT.usage
          : CHECK_EXIT.upstream;
  if (json) io.out(JSON.stringify({ erreur: { raison, message, ...(correlationId ? { correlationId } : {}) } }));
  io.err(`${message}${correlationId ? ` (X-Correlation-ID : ${correlationId})` : ''}`);
  return status;
}

function describe(s: SituationFiscale, where: string): string {
  const euros = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });
  const lines = [
    `Connexion réussie (${where}) : avis des revenus ${s.anneeRevenus}.`,
    `  Revenu fiscal de référence : ${euros.format(s.rfr)} €`,
    `  Nombre de parts            : ${String(s.nbParts).replace('.', ',')}`,
    `  Situation de famille       : ${LIBELLES_SITUATION_FAMILLE[s.situationFamille]} (${s.situationFamille})`,
    `  Personnes à charge         : ${s.nbPac}`,
    ...s.declarants.map(
      (d, i) =>
        `  Déclarant ${i + 1}                : ${d.prenoms} ${d.nomNaissance}${d.nomUsage ? ` (nom d’usage ${d.nomUsage})` : ''}${d.dateNaissance ? `, né(e) le ${formatDateCourte(d.dateNaissance)}` : ''}`,
    ),
    `  Adresse fiscale            : ${s.adresse ?? 'non communiquée'}`,
  ];
  return lines.join('\n');
}
