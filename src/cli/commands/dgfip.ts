import { userInfo } from 'node:os';
import { derniereAnneeImposee } from '../../domain/annee-imposition.ts';
import { composeServices } from '../../app/compose.ts';
import { formatDateCourte, parseIsoDate } from '../../domain/dates.ts';
import { lieuNaissanceDgfip, longueursEtatCivil } from '../../domain/etat-civil.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import { QuotientError } from '../../domain/errors.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { LIBELLES_SITUATION_FAMILLE, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { isSourceFiscaleError } from '../../sources/fiscal-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { EXIT, argsDeSousCommande, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

/** Exit statuses of `quotient dgfip check` (ARCHITECTURE §5). */
export const CHECK_EXIT = { found: 0, notFound: 3, yearNotTaxed: 4, upstream: 5, ambiguous: 6, notDisclosed: 7 } as const;

const USAGE = [
  'quotient dgfip check --spi NUMERO_FISCAL [--annee ANNEE] [--json]',
  'quotient dgfip check --etat-civil --nom NOM --prenoms PRENOMS [--sexe M|F] [--naissance AAAA-MM-JJ] [--lieu CODE_INSEE] [--via sfip|r2p] [--json]',
  '',
  'Teste la connexion à la DGFiP (ou au bac à sable intégré si DGFIP_BASE_URL n’est pas renseignée) :',
  'affiche la situation fiscale normalisée et minimisée. Le numéro fiscal n’est jamais réaffiché.',
  '',
  '  --spi     numéro fiscal à 13 chiffres (espaces acceptés)',
  '  --annee   année des revenus (par défaut : la dernière imposée)',
  '  --json    un objet JSON sur la sortie standard',
  '',
  'Par état civil (--etat-civil) : SFiP si l’habilitation l’ouvre, sinon R2P puis Impôt particulier ; le numéro',
  'fiscal obtenu de R2P n’est jamais affiché.',
  '  --nom        nom de naissance (100 caractères au plus)',
  '  --prenoms    prénoms de naissance, séparés par des espaces (20 caractères au plus chacun)',
  '  --sexe       M ou F',
  '  --naissance  date de naissance AAAA-MM-JJ',
  '  --lieu       code INSEE de la commune de naissance (44109), ou du pays pour une naissance à l’étranger (99xxx)',
  '  --via        sfip ou r2p, pour essayer une voie précise (par défaut : celle de l’habilitation)',
  '',
  'Codes de sortie : 0 trouvé, 3 inconnu, 4 année pas encore imposée, 5 échec côté DGFiP,',
  '2 mauvaise utilisation (y compris une année hors de l’habilitation, ou une requête que la DGFiP refuse comme mal formée),',
  '6 état civil ambigu (homonymes : précisez la date et le lieu de naissance), 7 dossier non communicable par état civil,',
  '1 appels suspendus (mesure d’incident, ou arrêt d’intégrité : journal d’audit altéré) ou autre échec.',
].join('\n');

export const dgfipCommand: CliCommand = {
  summary: 'Teste la connexion à la DGFiP : quotient dgfip check --spi NUMERO (ou --etat-civil --nom … --prenoms …) [--annee ANNEE] [--json].',
  usage: USAGE,
  async run(argv, io) {
    const rest = argsDeSousCommande(argv, 'check', USAGE);
    const { values } = parseCommandArgs({
      args: rest,
      options: {
        spi: { type: 'string' },
        annee: { type: 'string' },
        json: { type: 'boolean', default: false },
        'etat-civil': { type: 'boolean', default: false },
        nom: { type: 'string' },
        prenoms: { type: 'string' },
        sexe: { type: 'string' },
        naissance: { type: 'string' },
        lieu: { type: 'string' },
        via: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values['etat-civil'] && values.spi !== undefined)
      throw new QuotientError('invalid', 'usage_invalide', 'Donnez soit --spi, soit --etat-civil avec --nom et --prenoms, pas les deux.');
    const demandeEtatCivil = values['etat-civil'] ? lireEtatCivil(values) : undefined;
    if (!demandeEtatCivil && values.spi === undefined)
      throw new QuotientError('invalid', 'usage_invalide', 'Indiquez le numéro fiscal avec --spi, ou l’état civil avec --etat-civil.');
    const spi = demandeEtatCivil ? undefined : NumeroFiscal.parse(values.spi as string);
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
          const options = annee === undefined ? {} : { anneeRevenus: annee };
          const voie = demandeEtatCivil ? (demandeEtatCivil.via ?? dgfip.clients.source.voie) : undefined;
          const situation = demandeEtatCivil
            ? await (voie === 'r2p' ? dgfip.clients.r2p : voie === 'sfip' ? dgfip.clients.sfip : dgfip.clients.source).parEtatCivil(
                demandeEtatCivil.etatCivil,
                options,
              )
            : await dgfip.clients.impotParticulier.parNumeroFiscal(spi as NumeroFiscal, options);
          await journal.append({
            actor,
            action: 'dgfip.check',
            outcome: 'succes',
            // How it was asked, never what was typed: no état civil in the journal.
            details: { anneeRevenus: situation.anneeRevenus, bacASable: dgfip.connection.sandbox, ...(voie ? { etatCivil: voie } : {}) },
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
            details: {
              raison: error.raison,
              bacASable: dgfip.connection.sandbox,
              ...(demandeEtatCivil ? { etatCivil: demandeEtatCivil.via ?? dgfip.clients.source.voie } : {}),
            },
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

/** The état civil of `--etat-civil`, checked as the portal checks it, before any call. */
function lireEtatCivil(values: {
  nom?: string | undefined;
  prenoms?: string | undefined;
  sexe?: string | undefined;
  naissance?: string | undefined;
  lieu?: string | undefined;
  via?: string | undefined;
}): { etatCivil: EtatCivil; via?: 'sfip' | 'r2p' } {
  const usage = (message: string) => new QuotientError('invalid', 'usage_invalide', message);
  if (!values.nom?.trim() || !values.prenoms?.trim()) throw usage('Par état civil, --nom et --prenoms sont obligatoires.');
  const trop = longueursEtatCivil({ nom: values.nom, prenoms: values.prenoms });
  if (trop.length > 0) throw usage(trop.map((e) => e.message).join(' '));
  if (values.sexe !== undefined && values.sexe !== 'M' && values.sexe !== 'F') throw usage(`Sexe invalide : « ${values.sexe} » (M ou F).`);
  if (values.naissance !== undefined && parseIsoDate(values.naissance) === null)
    throw usage(`Date de naissance invalide : « ${values.naissance} » (AAAA-MM-JJ).`);
  const lieu = values.lieu === undefined ? {} : lieuNaissanceDgfip(values.lieu);
  if (lieu === null) throw usage(`Lieu de naissance invalide : « ${values.lieu} » (code INSEE à 5 caractères, 99xxx pour un pays).`);
  if (values.via !== undefined && values.via !== 'sfip' && values.via !== 'r2p') throw usage(`Voie inconnue : « ${values.via} » (sfip ou r2p).`);
  return {
    etatCivil: {
      nom: values.nom,
      prenoms: values.prenoms,
      ...(values.sexe ? { sexe: values.sexe } : {}),
      ...(values.naissance ? { dateNaissance: values.naissance } : {}),
      ...lieu,
    },
    ...(values.via ? { via: values.via } : {}),
  };
}

/** The exit status of each typed failure; any other is an upstream failure (5). */
const EXIT_OF: Partial<Record<string, number>> = {
  introuvable: CHECK_EXIT.notFound,
  etat_civil_introuvable: CHECK_EXIT.notFound,
  annee_indisponible: CHECK_EXIT.yearNotTaxed,
  etat_civil_ambigu: CHECK_EXIT.ambiguous,
  dossier_non_communicable: CHECK_EXIT.notDisclosed,
  numero_fiscal_invalide: EXIT.usage,
  requete_refusee: EXIT.usage,
  annee_hors_habilitation: EXIT.usage,
  etat_civil_trop_long: EXIT.usage,
};

function report(io: CliIo, raison: string, message: string, correlationId: string | undefined, json: boolean): number {
  const status = EXIT_OF[raison] ?? CHECK_EXIT.upstream;
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
