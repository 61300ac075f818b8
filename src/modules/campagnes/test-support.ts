/**
 * Test support of the campaigns: import lines of the sandbox's population (état civil that SFiP
 * and R2P find), a harness on the état civil route, and a worker driven pass by pass.
 */
import type { StatutDemande } from '../../domain/demande.ts';
import type { Database } from '../../infra/db/database.ts';
import type { Mailer } from '../../infra/mail/mailer.ts';
import type { SandboxHandle } from '../../sandbox/server.ts';
import { createHarness, HABILITATION_ETAT_CIVIL, type Harness } from '../demandes/test-harness.ts';
import { loadPolitiqueFileSync } from '../tarifs/politique-loader.ts';
import type { SpiVault } from '../demandes/spi-vault.ts';
import type { Passe } from './execution.ts';
import { COLONNES_IMPORT, type ColonneImport } from './import-csv.ts';
import type { SourceRenouvellements } from './renouvellements.ts';

export type LigneCsv = Partial<Record<ColonneImport, string>>;

/** A CSV as the commune's software exports it (`;`, BOM, CRLF), every known column in the header. */
export function fichierCsv(lignes: readonly LigneCsv[], colonnes: readonly string[] = COLONNES_IMPORT): Uint8Array {
  const corps = lignes.map((l) => colonnes.map((c) => l[c as ColonneImport] ?? '').join(';'));
  return new TextEncoder().encode(`\uFEFF${[colonnes.join(';'), ...corps].join('\r\n')}\r\n`);
}

const ACCORD = { accord_date: '01/09/2025', accord_reference: 'Formulaire 2025-0042' };

/** A married couple, one avis for both: the QF is computed. */
export const bertinRoussel = (reference: string): LigneCsv => ({
  reference,
  courriel: `${reference.toLowerCase()}@example.org`,
  avis_commun: 'oui',
  p1_nom_naissance: 'Bertin',
  p1_prenoms: 'Paul Henri',
  p1_sexe: 'M',
  p1_date_naissance: '09/04/1981',
  p1_lieu_naissance: '44109',
  p2_nom_naissance: 'Roussel',
  p2_nom_usage: 'Bertin',
  p2_prenoms: 'Claire Anne',
  p2_sexe: 'F',
  p2_date_naissance: '01/12/1983',
  p2_lieu_naissance: '35238',
  ...ACCORD,
});

/** A single parent. */
export const garnier = (reference: string): LigneCsv => ({
  reference,
  courriel: `${reference.toLowerCase()}@example.org`,
  p1_nom_naissance: 'Garnier',
  p1_prenoms: 'Julie',
  p1_sexe: 'F',
  p1_date_naissance: '1992-09-17',
  p1_lieu_naissance: '59350',
  ...ACCORD,
});

/** Two people of that name born that day: without the birthplace, the DGFiP cannot tell them apart. */
export const homonyme = (reference: string): LigneCsv => ({
  reference,
  p1_nom_naissance: 'Martin',
  p1_prenoms: 'Camille',
  p1_date_naissance: '15/06/1985',
  ...ACCORD,
});

export const AGENT_ADMIN = { type: 'agent' as const, id: 'agent-administration' };

/** A policy by brackets (Strasbourg's): the report names each family's new bracket. */
export const POLITIQUE_TRANCHES = loadPolitiqueFileSync(new URL('../../../examples/strasbourg.yaml', import.meta.url).pathname);

export async function harnessCampagnes(
  database: Database,
  sandbox: SandboxHandle,
  options: {
    instanceId?: string;
    vault?: SpiVault;
    dataDir?: string;
    renouvellements?: SourceRenouvellements;
    bailMs?: number;
    quotaParMinute?: number;
    onChange?: (demandeId: string, statut: StatutDemande) => void;
    mailer?: Mailer;
  } = {},
): Promise<Harness> {
  return createHarness(database, sandbox, {
    habilitation: HABILITATION_ETAT_CIVIL.sfip,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    ...(options.vault ? { vault: options.vault } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.renouvellements ? { renouvellements: options.renouvellements } : {}),
    ...(options.quotaParMinute ? { quotaParMinute: options.quotaParMinute } : {}),
    ...(options.onChange ? { onChange: options.onChange } : {}),
    ...(options.mailer ? { mailer: options.mailer } : {}),
    campagnes: { bailMs: options.bailMs ?? 60_000, attenteMs: 50 },
    politique: () => POLITIQUE_TRANCHES,
    // Alerts are stored (the tests read them), sent nowhere.
    canauxAlerte: [],
  });
}

/** Passes of the worker until nothing is left to claim (bounded). */
export async function drainer(h: Harness, max = 200): Promise<Passe[]> {
  const passes: Passe[] = [];
  for (let i = 0; i < max; i++) {
    const p = await h.services.executeurCampagnes.passe();
    passes.push(p);
    if (p.type === 'aucun' || p.type === 'arrete') return passes;
    if (p.type === 'quota') await new Promise((r) => setTimeout(r, Math.min(Math.max(p.retryAt - Date.now(), 10), 500)));
  }
  throw new Error(`le travail ne s’est pas vidé en ${max} passes`);
}

/** The report's text. */
export async function texteRapport(h: Harness, campagneId: string): Promise<string> {
  let out = '';
  for await (const chunk of (await h.services.campagnes.rapport(campagneId, AGENT_ADMIN)).lignes) out += chunk;
  return out;
}
