import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { composeServices, type Services } from '../../app/compose.ts';
import { LIBELLES_ISSUE, LIBELLES_STATUT_CAMPAGNE, ISSUES } from '../../domain/campagne.ts';
import { QuotientError } from '../../domain/errors.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import type { EtatCampagne, RapportImport } from '../../modules/campagnes/campagnes-service.ts';
import { EXIT, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

const USAGE = [
  'quotient campagne lister [--json]',
  'quotient campagne importer --fichier LISTE.csv --nom NOM --agent ADRESSE [--essai]',
  'quotient campagne demarrer|reprendre REFERENCE --agent ADRESSE',
  'quotient campagne pause|annuler REFERENCE --agent ADRESSE --motif TEXTE',
  'quotient campagne rapport REFERENCE --sortie RAPPORT.csv --agent ADRESSE',
  '',
  'Les campagnes de la page « Campagnes » de l’administration, en ligne de commande. Chaque action est',
  'faite au nom de l’administrateur désigné par --agent (son adresse, agent actif ayant le rôle',
  'administrateur) et inscrite au journal d’audit ; le traitement automatique agit au nom de celui qui',
  'démarre la campagne. Les éléments sont traités par les processus « quotient serve --role worker » ou « all ».',
  '',
  '  --essai     vérifie le fichier sans rien enregistrer (erreurs ligne par ligne, ce que ferait l’import)',
  '  --motif     pourquoi (pause, annulation), 3 à 500 caractères, inscrit au journal',
  '',
  'Codes de sortie : 0 fait, 1 fichier refusé (erreurs affichées) ou échec, 2 mauvaise utilisation.',
].join('\n');

const SOUS_COMMANDES = ['lister', 'importer', 'demarrer', 'pause', 'reprendre', 'annuler', 'rapport'] as const;
const usage = (message: string) => new QuotientError('invalid', 'usage_invalide', `${message} Usage : voir « quotient campagne --help ».`);

function ligne(c: EtatCampagne): string {
  return `${c.reference}  ${LIBELLES_STATUT_CAMPAGNE[c.statut].padEnd(28)}  ${String(c.progression.traites).padStart(6)} / ${String(c.progression.total).padEnd(6)}  ${c.libelle}`;
}

function afficherRapport(io: CliIo, r: RapportImport): void {
  io.out(`${r.fichier}${r.lecture ? ` (${r.lecture})` : ''} : ${r.lignesLues} ligne(s), ${r.valides} sans erreur, ${r.erreurs.length} erreur(s).`);
  io.out(
    `Familles : ${r.famillesExistantes} déjà connue(s), ${r.famillesNouvelles} à créer ; environ ${r.appelsEstimes} appel(s), au moins ${r.dureeMinutes} minute(s) au quota.`,
  );
  if (r.dejaImporte) io.out(`Ce fichier a déjà servi à la campagne ${r.dejaImporte}.`);
  for (const e of r.erreurs) io.err(e.message);
  for (const a of r.avertissements) io.out(`À vérifier : ${a.message}`);
}

async function administrateur(services: Services, adresse: string | undefined): Promise<{ type: 'agent'; id: string }> {
  if (!adresse) throw usage('Indiquez --agent ADRESSE : l’administrateur au nom duquel agir.');
  const agent = (await services.agents.lister()).find((a) => a.email === adresse.trim().toLowerCase());
  if (!agent || !agent.actif || !agent.roles.includes('administrateur')) {
    throw new QuotientError('forbidden', 'agent_non_administrateur', `Aucun administrateur actif n’a l’adresse « ${adresse} ».`);
  }
  return { type: 'agent', id: agent.id };
}

async function parReference(services: Services, reference: string | undefined): Promise<EtatCampagne> {
  if (!reference) throw usage('Indiquez la référence de la campagne (C-…).');
  const c = (await services.campagnes.lister()).find((x) => x.reference === reference.trim().toUpperCase());
  if (!c) throw new QuotientError('not_found', 'campagne_introuvable', `Aucune campagne « ${reference} ».`);
  return c;
}

export const campagneCommand: CliCommand = {
  summary: 'Campagnes : lister, importer une liste (ou la vérifier), démarrer, mettre en pause, reprendre, annuler, rapport.',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (!(SOUS_COMMANDES as readonly (string | undefined)[]).includes(sub))
      throw usage(sub === undefined ? 'Sous-commande manquante.' : `Sous-commande inconnue : « ${sub} ».`);
    const { values, positionals } = parseCommandArgs({
      args: rest,
      options: {
        fichier: { type: 'string' },
        nom: { type: 'string' },
        agent: { type: 'string' },
        motif: { type: 'string' },
        sortie: { type: 'string' },
        essai: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      if (mode === 'demo') await migrate(runtime);
      else if ((await pendingMigrations(runtime.database.db)).length > 0) {
        io.err(`La base ${describeDatabase(runtime.config.databaseUrl)} n’est pas à jour : lancez « quotient migrate » d’abord.`);
        return EXIT.usage;
      }
      const services = await composeServices(runtime, { background: false, onAlert: (a) => io.err(a.message) });
      try {
        if (sub === 'lister') {
          const liste = await services.campagnes.lister();
          if (values.json)
            io.out(JSON.stringify(liste.map((c) => ({ reference: c.reference, libelle: c.libelle, statut: c.statut, progression: c.progression }))));
          else io.out(liste.length === 0 ? 'Aucune campagne.' : liste.map(ligne).join('\n'));
          return EXIT.ok;
        }
        const acteur = await administrateur(services, values.agent);
        if (sub === 'importer') {
          if (!values.fichier) throw usage('Indiquez le fichier avec --fichier LISTE.csv.');
          let octets: Buffer;
          try {
            octets = readFileSync(values.fichier);
          } catch {
            throw new QuotientError('invalid', 'fichier_illisible', `Le fichier « ${values.fichier} » ne peut pas être lu.`);
          }
          if (values.essai) {
            const r = await services.campagnes.essayerImport(octets, basename(values.fichier), acteur);
            afficherRapport(io, r);
            io.out('Essai à blanc : rien n’a été enregistré.');
            return r.erreurs.length === 0 ? EXIT.ok : EXIT.failure;
          }
          if (!values.nom) throw usage('Indiquez le nom de la campagne avec --nom « … ».');
          const { rapport, campagne } = await services.campagnes.importer(octets, basename(values.fichier), values.nom, acteur);
          afficherRapport(io, rapport);
          if (!campagne) {
            io.err('Rien n’a été importé : corrigez le fichier et recommencez.');
            return EXIT.failure;
          }
          io.out(`Campagne ${campagne.reference} créée, pas encore démarrée : « quotient campagne demarrer ${campagne.reference} --agent … ».`);
          return EXIT.ok;
        }
        const c = await parReference(services, positionals[0]);
        if (sub === 'rapport') {
          if (!values.sortie) throw usage('Indiquez le fichier à écrire avec --sortie RAPPORT.csv.');
          let texte = '';
          for await (const morceau of (await services.campagnes.rapport(c.id, acteur)).lignes) texte += morceau;
          writeFileSync(values.sortie, texte, { mode: 0o600 });
          io.out(`Rapport de ${c.reference} écrit dans ${values.sortie} (${c.progression.traites} famille(s) traitée(s) sur ${c.progression.total}).`);
          return EXIT.ok;
        }
        const apres = await services.campagnes.agir(c.id, sub as 'demarrer' | 'pause' | 'reprendre' | 'annuler', acteur, values.motif);
        io.out(ligne(apres));
        io.out(
          ISSUES.filter((i) => apres.progression.parIssue[i] > 0)
            .map((i) => `  ${LIBELLES_ISSUE[i]} : ${apres.progression.parIssue[i]}`)
            .join('\n') || '  aucune famille traitée pour le moment',
        );
        return EXIT.ok;
      } finally {
        await services.stop();
      }
    } finally {
      await runtime.database.close();
    }
  },
};
