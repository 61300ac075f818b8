import type { Kysely } from 'kysely';
import { NumeroFiscal } from '../domain/numero-fiscal.ts';
import type { Schema } from '../infra/db/schema.ts';
import type { Logger } from '../infra/log/logger.ts';
import { SPI_SANDBOX } from '../sandbox/server.ts';
import { DEMO_AGENTS } from '../sandbox/agents/provider.tsx';
import type { Acteur } from '../modules/audit/index.ts';
import type { Soumission } from '../modules/demandes/demandes-service.ts';
import type { Services } from '../app/compose.ts';

/**
 * The demo's families: real requests through the real service against the sandbox's fictitious
 * population, so that every screen has something to show. The numéros fiscaux below are the
 * sandbox's published test identities; like any other, they pass through memory only.
 */
const robot: Acteur = { type: 'robot', id: 'demo', onBehalfOf: { type: 'agent', id: 'installation-demo' } };
const installation = { type: 'systeme' as const, id: 'installation-demo' };

/**
 * The demo's agents, one per role, declared as an administrator would; they sign in through the
 * local agents' provider. Returns the counter agent's id (the demo's paper requests are theirs).
 */
export async function seedDemoAgents(services: Pick<Services, 'agents'>): Promise<string> {
  const known = new Map((await services.agents.lister()).map((a) => [a.email, a.id]));
  for (const agent of DEMO_AGENTS) {
    if (!known.has(agent.email)) known.set(agent.email, (await services.agents.creer(agent, installation)).id);
  }
  return known.get(DEMO_AGENTS[0]?.email ?? '') as string;
}

interface Exemple {
  readonly famille: unknown;
  readonly foyersFiscaux: Array<[1 | 2, string]>;
  readonly canal: 'en_ligne' | 'guichet';
}

const EXEMPLES: readonly Exemple[] = [
  {
    // Married couple, she declares her usage name: one avis for both.
    famille: {
      parents: [
        { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
        { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
      ],
      enfants: [
        { prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' },
        { prenoms: 'Hugo', nom: 'Bertin', dateNaissance: '2019-10-14' },
      ],
      courriel: 'famille.bertin@exemple.fr',
    },
    foyersFiscaux: [[1, SPI_SANDBOX.coupleMarie.declarant1]],
    canal: 'en_ligne',
  },
  {
    // PACS couple with a compound name, entered at the counter from a signed form.
    famille: {
      parents: [
        { nomNaissance: 'Chevalier', prenoms: 'Marc', dateNaissance: '1988-06-30' },
        { nomNaissance: 'Ndiaye Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' },
      ],
      enfants: [{ prenoms: 'Inès', nom: 'Chevalier', dateNaissance: '2018-03-08' }],
    },
    foyersFiscaux: [[2, SPI_SANDBOX.couplePacse.declarant2]],
    canal: 'guichet',
  },
  {
    // Unmarried parents: two avis, combined by the policy.
    famille: {
      parents: [
        { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
        { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
      ],
      enfants: [{ prenoms: 'Noé', nom: 'Moreau', dateNaissance: '2020-07-21' }],
      courriel: 'julie.garnier@exemple.fr',
    },
    foyersFiscaux: [
      [1, SPI_SANDBOX.parentsNonMaries.parentAvecEnfant],
      [2, SPI_SANDBOX.parentsNonMaries.parentSansEnfant],
    ],
    canal: 'en_ligne',
  },
  {
    // A young mother with a revenu fiscal de référence of 0.
    famille: {
      parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
      enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
    },
    foyersFiscaux: [[1, SPI_SANDBOX.rfrZero]],
    canal: 'en_ligne',
  },
  {
    // Separated parents, alternating residence: the mother's own avis.
    famille: {
      parents: [
        { nomNaissance: 'Lambert', prenoms: 'Sophie', dateNaissance: '1984-07-22' },
        { nomNaissance: 'Faure', prenoms: 'Nicolas', dateNaissance: '1982-03-11', cohabite: false },
      ],
      enfants: [{ prenoms: 'Tom', nom: 'Faure', dateNaissance: '2014-11-03', residence: 'alternee' }],
    },
    foyersFiscaux: [[1, SPI_SANDBOX.residenceAlternee.parentA]],
    canal: 'en_ligne',
  },
  {
    // A widow: two avis for the year of the death, for an instructor to decide.
    famille: { parents: [{ nomNaissance: 'Blanc', nomUsage: 'Perrin', prenoms: 'Monique', dateNaissance: '1961-08-27' }], resident: true },
    foyersFiscaux: [[1, SPI_SANDBOX.deces.survivant]],
    canal: 'guichet',
  },
  {
    // The number given belongs to someone else (the avis names another person): an instructor checks.
    famille: {
      parents: [{ nomNaissance: 'Petit', prenoms: 'Tatiana', dateNaissance: '1985-09-30' }],
      enfants: [{ prenoms: 'Lou', nom: 'Petit', dateNaissance: '2017-06-12' }],
    },
    foyersFiscaux: [[1, SPI_SANDBOX.familleNombreuse.declarant1]],
    canal: 'en_ligne',
  },
];

/** Seeds once: a database that already has families is left as it is. */
export async function seedDemo(services: Services, db: Kysely<Schema>, logger: Logger): Promise<number> {
  const guichet = { type: 'agent' as const, id: await seedDemoAgents(services) };
  const existing = await db
    .selectFrom('familles')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(existing.n) > 0) return 0;
  const ids: string[] = [];
  for (const exemple of EXEMPLES) {
    const { id: familleId } = await services.familles.creer(exemple.famille, robot);
    const soumission: Soumission = {
      familleId,
      canal: exemple.canal,
      acteur: exemple.canal === 'guichet' ? guichet : robot,
      foyersFiscaux: exemple.foyersFiscaux.map(([parentRang, spi]) => ({
        parentRang,
        identifiant: { spi: NumeroFiscal.parse(spi) },
        consentement:
          exemple.canal === 'guichet'
            ? { mode: 'formulaire_signe' as const, donnePar: guichet, piece: 'formulaire d’accord signé remis au guichet' }
            : { mode: 'en_ligne' as const, donnePar: { type: 'famille' as const, id: familleId } },
      })),
    };
    ids.push((await services.demandes.soumettre(soumission)).id);
  }
  services.wake();
  // The processing loop works through them at the quota's pace; a few seconds on the sandbox.
  const deadline = Date.now() + 60_000;
  for (const id of ids) {
    const etat = await services.demandes.attendre(id, Math.max(deadline - Date.now(), 0));
    if (etat.file) logger.warn({ demande: etat.reference }, 'demande de démonstration encore en file');
  }
  return ids.length;
}
