/**
 * Test support: the request service composed as in production by `composeServices` — real
 * database (either dialect), real audit journal and silo, real DGFiP clients against the sandbox
 * on loopback — with the numéros fiscaux in memory only and no background job: the tests process
 * requests by hand (`traitement.traiter`) or start `services.boucle` themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { composeServices, type CompositionOptions, type Services } from '../../app/compose.ts';
import { parseHabilitation, type Habilitation } from '../../domain/habilitation.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { loadConfig } from '../../infra/config/config.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { createLogger } from '../../infra/log/logger.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { SandboxHandle } from '../../sandbox/server.ts';
import type { DgfipClients, DgfipConnection } from '../../sources/dgfip.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { FamillesService } from '../familles/familles-service.ts';
import type { DecisionsService } from '../instruction/decisions-service.ts';
import { loadPolitiqueFileSync } from '../tarifs/politique-loader.ts';
import type { TraitementService } from '../traitement/traitement-service.ts';
import type { DemandesService, Soumission } from './demandes-service.ts';
import type { SpiVault } from './spi-vault.ts';

export const HABILITATION_TEST = parseHabilitation({
  idTeleservice: 'QUOTIENT_BAC_A_SABLE',
  scopes: ['RessourceIR'],
  modalites: ['numero-fiscal', 'franceconnect'],
  baseLegale: 'Article L. 114-8 du CRPA et délibération tarifaire',
  finalite: 'Calcul du quotient familial pour les tarifs municipaux',
  versionTexteConsentement: 'test-1',
});

/** The same, with the état civil route: SFiP in one call, or R2P then Impôt particulier. */
export const HABILITATION_ETAT_CIVIL = {
  sfip: parseHabilitation({
    ...HABILITATION_TEST,
    scopes: ['RessourceIR', 'sfip_donnees_fiscales_usagers'],
    modalites: ['numero-fiscal', 'franceconnect', 'etat-civil'],
  }),
  r2p: parseHabilitation({
    ...HABILITATION_TEST,
    scopes: ['RessourceIR', 'api_r2p_resolution_spi'],
    modalites: ['numero-fiscal', 'franceconnect', 'etat-civil'],
  }),
};

export const POLITIQUE_BOULOGNE = loadPolitiqueFileSync(new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url).pathname);

export interface Harness {
  readonly demandes: DemandesService;
  readonly traitement: TraitementService;
  readonly decisions: DecisionsService;
  readonly familles: FamillesService;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly vault: SpiVault;
  readonly dgfip: DgfipClients;
  readonly logLines: string[];
  readonly dataDir: string;
  /** Everything else the composition built (the processing loop, instruction...). */
  readonly services: Services;
  close(): Promise<void>;
}

/** Deadline and backoff of the tests' upstream calls: a retry does not wait as it would in production. */
export const TEST_UPSTREAM_HTTP = { deadlineMs: 10_000, baseBackoffMs: 20 } as const;

/** The harness's view of composed services. */
export function harnessOf(services: Services, logLines: string[], dataDir: string, close: () => Promise<void>): Harness {
  const { demandes, traitement, decisions, familles, journal, coffre, vault } = services;
  return { demandes, traitement, decisions, familles, journal, coffre, vault, dgfip: services.dgfip.clients, logLines, dataDir, services, close };
}

export async function createHarness(
  database: Database,
  dgfip: SandboxHandle | DgfipConnection,
  options: { instanceId?: string; vault?: SpiVault; dataDir?: string; deadlineMs?: number; habilitation?: Habilitation; quotaParMinute?: number } & Pick<
    CompositionOptions,
    'onChange' | 'politique' | 'canauxAlerte' | 'incidentRefreshMs' | 'habilitation' | 'renouvellements' | 'campagnes' | 'mailer' | 'quotaFenetre'
  > = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'quotient-harness-'));
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  // The demo's configuration, keys and journal anchor under the harness's folder; the database is the test's.
  const demo = loadConfig({ QUOTIENT_DATA_DIR: dataDir }, { mode: 'demo', cwd: dataDir });
  // A test submits many numbers for few families: the anti-fishing limits out of reach (their own tests set them).
  const config = {
    ...demo,
    commune: { ...demo.commune, securite: { ...demo.commune.securite, numeroFiscal: LIMITES_HORS_DE_PORTEE } },
    ...(options.quotaParMinute !== undefined ? { dgfip: { ...demo.dgfip, quotaPerMinute: options.quotaParMinute } } : {}),
  };
  const services = await composeServices(
    { config, logger, database },
    {
      dgfip,
      upstreamHttp: { ...TEST_UPSTREAM_HTTP, ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}) },
      instanceId: options.instanceId ?? 'instance-test',
      habilitation: options.habilitation ?? HABILITATION_TEST,
      politique: options.politique ?? (() => POLITIQUE_BOULOGNE),
      background: false,
      onAlert: () => undefined,
      ...(options.vault ? { vault: options.vault } : {}),
      ...(options.onChange ? { onChange: options.onChange } : {}),
      ...(options.canauxAlerte ? { canauxAlerte: options.canauxAlerte } : {}),
      ...(options.incidentRefreshMs !== undefined ? { incidentRefreshMs: options.incidentRefreshMs } : {}),
      ...(options.renouvellements ? { renouvellements: options.renouvellements } : {}),
      ...(options.campagnes ? { campagnes: options.campagnes } : {}),
      ...(options.mailer ? { mailer: options.mailer } : {}),
      ...(options.quotaFenetre ? { quotaFenetre: options.quotaFenetre } : {}),
    },
  );
  return harnessOf(services, logLines, dataDir, async () => {
    await services.stop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
}

/** Runs `body` on a harness of each dialect, closed afterwards. */
export async function eachHarness(t: TestContext, dgfip: SandboxHandle, body: (h: Harness, url: string, database: Database) => Promise<void>): Promise<void> {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, dgfip);
    try {
      await body(h, fixture.url, database);
    } finally {
      await h.close();
    }
  });
}

/** A married couple: the avis of the sandbox's `coupleMarie` names them both. */
export const BERTIN_ROUSSEL = {
  parents: [
    { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
    { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
  ],
  enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
};

/** A request made online by the family (`acteur`), with the numéro fiscal of each parent given. */
export function enLigne(
  familleId: string,
  foyersFiscaux: Array<[1 | 2, string]>,
  acteur: Acteur & { type: 'famille' } = { type: 'famille', id: 'compte-test' },
): Soumission {
  return {
    familleId,
    canal: 'en_ligne',
    acteur,
    foyersFiscaux: foyersFiscaux.map(([parentRang, spi]) => ({
      parentRang,
      identifiant: { spi: NumeroFiscal.parse(spi) },
      consentement: { mode: 'en_ligne', donnePar: acteur },
    })),
  };
}

/** Anti-fishing limits no test reaches by accident: every request of a test comes from one address and few families. */
const HORS_DE_PORTEE = { heure: 100_000, jour: 1_000_000 };
export const LIMITES_HORS_DE_PORTEE = { parCompte: HORS_DE_PORTEE, parFamille: HORS_DE_PORTEE, parAdresse: HORS_DE_PORTEE, parAgent: HORS_DE_PORTEE };
