import { userInfo } from 'node:os';
import { composeIncidents } from '../../app/compose.ts';
import { QuotientError } from '../../domain/errors.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import type { EtatIntegrite } from '../../modules/incident/garde-integrite.ts';
import type { CibleRevocation, Operateur } from '../../modules/incident/incident-service.ts';
import {
  INTERRUPTEURS,
  LIBELLES_INTERRUPTEURS,
  RAFRAICHISSEMENT_MS,
  type CodeInterrupteur,
  type EtatIncidents,
  type Interrupteur,
} from '../../modules/incident/interrupteurs.ts';
import { EXIT, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

const USAGE = [
  'quotient incident etat [--json]',
  'quotient incident suspendre-dgfip --motif TEXTE      quotient incident reprendre-dgfip --motif TEXTE',
  'quotient incident arreter-campagnes --motif TEXTE    quotient incident reprendre-campagnes --motif TEXTE',
  'quotient incident maintenance on|off --motif TEXTE',
  'quotient incident revoquer-sessions (--famille REFERENCE | --agent ADRESSE | --tous) --motif TEXTE',
  '',
  'Mesures d’incident, les mêmes que la page « Mesures d’incident » de l’administration : chacune prend',
  `effet en quelques secondes (${RAFRAICHISSEMENT_MS / 1000} s) sur toutes les instances qui partagent la base, et s’inscrit au journal`,
  'd’audit au nom de l’exploitant (le compte système qui lance la commande) avec son motif, obligatoire.',
  '',
  '  etat                 état de chaque mesure et du journal d’audit (vérifié à l’instant)',
  '  suspendre-dgfip      plus aucun appel à la DGFiP ; les demandes attendent dans la file',
  '  arreter-campagnes    les campagnes ne traitent plus aucun dossier',
  '  maintenance on|off   le portail des familles affiche une page de maintenance (503)',
  '  revoquer-sessions    déconnecte une famille (sa référence), un agent (son adresse) ou tout le monde',
  '  --motif              pourquoi : inscrit au journal d’audit (5 à 500 caractères, jamais de numéro fiscal)',
  '  --json               (etat) un objet JSON sur la sortie standard',
  '',
  'L’arrêt d’intégrité (journal d’audit altéré) ne se lève pas ici : un auditeur le lève après enquête,',
  'depuis la page « Intégrité du journal » de l’espace Contrôle.',
  '',
  'Codes de sortie : 0 fait (ou déjà dans cet état), 1 échec, 2 mauvaise utilisation.',
].join('\n');

const BASCULES: Readonly<Record<string, { code: CodeInterrupteur; actif: boolean }>> = {
  'suspendre-dgfip': { code: 'appels_dgfip', actif: true },
  'reprendre-dgfip': { code: 'appels_dgfip', actif: false },
  'arreter-campagnes': { code: 'campagnes', actif: true },
  'reprendre-campagnes': { code: 'campagnes', actif: false },
};

const DATE_HEURE = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'long', timeStyle: 'short' });
const date = (iso: string) => DATE_HEURE.format(new Date(iso));

const usage = (message: string) => new QuotientError('invalid', 'usage_invalide', `${message} Usage : voir « quotient incident --help ».`);

function ligneInterrupteur(i: Interrupteur): string {
  const l = LIBELLES_INTERRUPTEURS[i.code];
  const depuis = i.le ? ` depuis le ${date(i.le)}${i.parLibelle ? `, par ${i.parLibelle}` : ''}${i.motif ? ` : « ${i.motif} »` : ''}` : '';
  return `${`${l.nom} :`.padEnd(24)}${i.actif ? l.actif : l.inactif}${depuis}`;
}

function ligneIntegrite(e: EtatIntegrite): string {
  const label = 'Journal d’audit :'.padEnd(24);
  switch (e.etat) {
    case 'intact':
      return `${label}intact (vérifié le ${date(e.verifieLe)})`;
    case 'reconnu':
      return `${label}altération reconnue le ${date(e.reconnaissance.le)} : « ${e.reconnaissance.motif} » ; rien de nouveau depuis, les opérations continuent`;
    case 'arret':
      return `${label}ARRÊT D’INTÉGRITÉ depuis le ${date(e.depuis)} : ${e.rapport.message} Aucun appel à la DGFiP ni nouvelle demande jusqu’à la reconnaissance par un auditeur.`;
    case 'a_verifier':
      return `${label}arrêt : vérification en cours`;
    case 'inconnu':
      return `${label}non vérifié`;
  }
}

function etatJson(etat: EtatIncidents, integrite: EtatIntegrite) {
  return {
    interrupteurs: Object.fromEntries(
      INTERRUPTEURS.map((code) => {
        const i = etat.interrupteurs[code];
        return [code, { actif: i.actif, motif: i.motif, par: i.parLibelle, le: i.le }];
      }),
    ),
    integrite: {
      etat: integrite.etat,
      ...(integrite.etat === 'arret'
        ? { depuis: integrite.depuis, raison: integrite.rapport.reason, sequenceRompue: integrite.rapport.firstBrokenSeq, message: integrite.rapport.message }
        : {}),
      ...(integrite.etat === 'reconnu' ? { reconnueLe: integrite.reconnaissance.le, motif: integrite.reconnaissance.motif } : {}),
    },
  };
}

export const incidentCommand: CliCommand = {
  summary: 'Mesures d’incident : suspendre les appels DGFiP ou les campagnes, maintenance du portail, révocation de sessions (quotient incident etat).',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === undefined) throw usage('Sous-commande manquante.');
    const bascule = BASCULES[sub];
    let positionnel: string | undefined;
    if (sub === 'maintenance') {
      positionnel = rest.shift();
      if (positionnel !== 'on' && positionnel !== 'off') throw usage('Indiquez « maintenance on » ou « maintenance off ».');
    } else if (bascule === undefined && sub !== 'etat' && sub !== 'revoquer-sessions') {
      throw usage(`Sous-commande inconnue : « ${sub} ».`);
    }
    const { values } = parseCommandArgs({
      args: rest,
      options: {
        motif: { type: 'string' },
        json: { type: 'boolean', default: false },
        famille: { type: 'string' },
        agent: { type: 'string' },
        tous: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    let cible: CibleRevocation | undefined;
    if (sub === 'revoquer-sessions') {
      const choisies = [values.famille !== undefined, values.agent !== undefined, values.tous].filter(Boolean).length;
      if (choisies !== 1) throw usage('Indiquez une cible et une seule : --famille REFERENCE, --agent ADRESSE ou --tous.');
      cible = values.famille !== undefined ? { famille: values.famille } : values.agent !== undefined ? { agent: values.agent } : { tous: true };
    }
    if (sub !== 'etat' && values.motif === undefined) throw usage('Indiquez le motif avec --motif « … » : il est inscrit au journal d’audit.');

    const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      if (mode === 'demo') await migrate(runtime);
      else if ((await pendingMigrations(runtime.database.db)).length > 0) {
        io.err(`La base ${describeDatabase(runtime.config.databaseUrl)} n’est pas à jour : lancez « quotient migrate » d’abord.`);
        return EXIT.usage;
      }
      // The journal is checked only to report it: the measures themselves must not wait for it.
      const services = await composeIncidents(runtime, { onAlert: (a) => io.err(a.message), verifier: sub === 'etat' });
      try {
        const user = userInfo().username;
        const par: Operateur = { acteur: { type: 'systeme', id: `cli:${user}` }, libelle: `l’exploitant (${user})` };
        if (sub === 'etat') return etat(io, await services.cache.lire(), services.integrite.etat(), values.json);
        if (cible !== undefined) {
          const { sessions, libelle } = await services.incidents.revoquerSessions(cible, values.motif, par);
          io.out(
            `${sessions === 0 ? 'Aucune session ouverte' : sessions === 1 ? '1 session révoquée' : `${sessions} sessions révoquées`} ${libelle} : ${sessions === 0 ? 'rien à faire' : 'déconnexion à la prochaine action, sur toutes les instances'}.`,
          );
          return EXIT.ok;
        }
        const { code, actif } = bascule ?? { code: 'maintenance' as const, actif: positionnel === 'on' };
        const { interrupteur, change } = await services.incidents.basculer(code, actif, values.motif, par);
        io.out(ligneInterrupteur(interrupteur));
        io.out(
          change
            ? `Mesure inscrite au journal d’audit ; toutes les instances l’appliquent dans les ${RAFRAICHISSEMENT_MS / 1000} secondes.`
            : 'C’était déjà le cas : rien n’a changé.',
        );
        return EXIT.ok;
      } finally {
        await services.close();
      }
    } finally {
      await runtime.database.close();
    }
  },
};

function etat(io: CliIo, etat: EtatIncidents, integrite: EtatIntegrite, json: boolean): number {
  if (json) io.out(JSON.stringify(etatJson(etat, integrite)));
  else io.out([...INTERRUPTEURS.map((code) => ligneInterrupteur(etat.interrupteurs[code])), ligneIntegrite(integrite)].join('\n'));
  return EXIT.ok;
}
