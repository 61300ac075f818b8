import type { Kysely } from 'kysely';
import type { IncidentInterrupteurTable, Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';

/**
 * The incident switches (CGU §8: cut the service, restrict access temporarily), stored in
 * `incident_interrupteurs` and read by every instance through a short cache, so that a switch
 * turned on one instance (or by the operator's CLI) takes effect on all within seconds.
 *
 * Who honours each one:
 * - `appels_dgfip`: the processing loop takes no request while it is on (`BoucleTraitement`,
 *   `TraitementService.traiter`), the DGFiP transport refuses every call (`UpstreamHttp`'s guard,
 *   token calls included), `quotient dgfip check` refuses; submissions are still queued.
 * - `campagnes`: the campaign runner of issue 14, not written yet, must ask
 *   `CacheIncidents.campagnesArretees()` before claiming each item and claim nothing while it
 *   answers a switch. (Its DGFiP calls already stop with `appels_dgfip` and the integrity halt.)
 * - `maintenance`: the families' pages answer a French 503 page (`src/http/incidents.tsx`); the
 *   back-office, the API and the health endpoints stay up.
 */
export const INTERRUPTEURS = ['appels_dgfip', 'campagnes', 'maintenance'] as const;
export type CodeInterrupteur = (typeof INTERRUPTEURS)[number];

export const LIBELLES_INTERRUPTEURS: Readonly<
  Record<CodeInterrupteur, { nom: string; actif: string; inactif: string; activer: string; desactiver: string; effet: string }>
> = {
  appels_dgfip: {
    nom: 'Appels à la DGFiP',
    actif: 'suspendus',
    inactif: 'en service',
    activer: 'Suspendre les appels',
    desactiver: 'Reprendre les appels',
    effet: 'Aucun appel ne part vers la DGFiP : les demandes attendent dans la file, les familles en sont prévenues et peuvent encore faire une demande.',
  },
  campagnes: {
    nom: 'Campagnes',
    actif: 'arrêtées',
    inactif: 'autorisées',
    activer: 'Arrêter les campagnes',
    desactiver: 'Reprendre les campagnes',
    effet: 'Les campagnes de renouvellement ne traitent plus aucun dossier.',
  },
  maintenance: {
    nom: 'Portail des familles',
    actif: 'en maintenance',
    inactif: 'ouvert',
    activer: 'Mettre en maintenance',
    desactiver: 'Rouvrir le portail',
    effet: 'Les pages des familles affichent une page de maintenance ; l’espace des agents, l’API et les contrôles de santé restent ouverts.',
  },
};

export interface Interrupteur {
  readonly code: CodeInterrupteur;
  readonly actif: boolean;
  /** Why it was last turned, by whom (as shown) and when (ISO); null until it is first turned. */
  readonly motif: string | null;
  readonly par: string | null;
  readonly parLibelle: string | null;
  readonly le: string | null;
}

/** The notice instances leave each other about the journal's integrity (see `GardeIntegrite`). */
export interface SignalIntegrite {
  readonly actif: boolean;
  readonly valeur: string | null;
  readonly le: string | null;
}

export interface EtatIncidents {
  readonly interrupteurs: Readonly<Record<CodeInterrupteur, Interrupteur>>;
  readonly integrite: SignalIntegrite;
}

/** Why DGFiP calls are held now: a switch, or the integrity halt. */
export interface SuspensionAppels {
  readonly cause: 'incident' | 'integrite';
  readonly depuis: string | null;
}

/** What families read while calls are held, on every page of the portal and the queue's. */
export const AVIS_FAMILLES: Readonly<Record<SuspensionAppels['cause'], string>> = {
  incident:
    'Les demandes à la DGFiP sont suspendues pour le moment. Vous pouvez tout de même faire votre demande : elle attendra dans la file et partira dès la reprise.',
  integrite:
    'Les demandes à la DGFiP sont suspendues le temps d’une vérification technique. Aucune nouvelle demande ne peut être faite pour l’instant ; celles déjà envoyées attendent et partiront dès la reprise.',
};

export function suspensionDe(etat: EtatIncidents): SuspensionAppels | null {
  const appels = etat.interrupteurs.appels_dgfip;
  return appels.actif ? { cause: 'incident', depuis: appels.le } : null;
}

const eteint = (code: CodeInterrupteur): Interrupteur => ({ code, actif: false, motif: null, par: null, parLibelle: null, le: null });
const ETAT_INITIAL: EtatIncidents = {
  interrupteurs: { appels_dgfip: eteint('appels_dgfip'), campagnes: eteint('campagnes'), maintenance: eteint('maintenance') },
  integrite: { actif: false, valeur: null, le: null },
};

function etatDe(rows: readonly IncidentInterrupteurTable[]): EtatIncidents {
  const interrupteurs = { ...ETAT_INITIAL.interrupteurs };
  let integrite = ETAT_INITIAL.integrite;
  for (const row of rows) {
    if (row.code === 'integrite') integrite = { actif: row.actif === 1, valeur: row.motif, le: row.le };
    else if ((INTERRUPTEURS as readonly string[]).includes(row.code)) {
      const code = row.code as CodeInterrupteur;
      interrupteurs[code] = { code, actif: row.actif === 1, motif: row.motif, par: row.par, parLibelle: row.par_libelle, le: row.le };
    }
  }
  return { interrupteurs, integrite };
}

/** Turns a switch (the caller journals it in the same transaction); false when it already was so. */
export async function ecrireInterrupteur(
  trx: Kysely<Schema>,
  code: CodeInterrupteur,
  change: { actif: boolean; motif: string; par: string; parLibelle: string; le: string },
): Promise<boolean> {
  const result = await trx
    .updateTable('incident_interrupteurs')
    .set({ actif: change.actif ? 1 : 0, motif: change.motif, par: change.par, par_libelle: change.parLibelle, le: change.le })
    .where('code', '=', code)
    .where('actif', '=', change.actif ? 0 : 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Leaves the integrity notice `valeur`, unless it is already there (another instance left it):
 * true for the one instance that wrote it, which then journals and alerts for all.
 */
export async function ecrireSignalIntegrite(db: Kysely<Schema>, signal: { actif: boolean; valeur: string; le: string; par: string }): Promise<boolean> {
  const result = await db
    .updateTable('incident_interrupteurs')
    .set({ actif: signal.actif ? 1 : 0, motif: signal.valeur, le: signal.le, par: signal.par, par_libelle: null })
    .where('code', '=', 'integrite')
    .where((eb) => eb.or([eb('motif', 'is', null), eb('motif', '<>', signal.valeur), eb('actif', '<>', signal.actif ? 1 : 0)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The default delay within which a switch turned elsewhere is seen here. */
export const RAFRAICHISSEMENT_MS = 2_000;

/**
 * The switches as this instance sees them: read from the database at most once per
 * `rafraichissementMs` (callers that need them await `etat()`, which reads again once the last
 * read is older than that), never failing: when the database cannot answer, the last state read
 * stands and the operator is told in the log.
 */
export class CacheIncidents {
  private courant: EtatIncidents = ETAT_INITIAL;
  private luLe = Number.NEGATIVE_INFINITY;
  private lecture: Promise<EtatIncidents> | null = null;
  private readonly observateurs: Array<(etat: EtatIncidents) => void> = [];
  private readonly rafraichissementMs: number;
  private readonly clock: () => number;

  constructor(private readonly deps: { db: Kysely<Schema>; logger: Logger; rafraichissementMs?: number; clock?: () => number }) {
    this.rafraichissementMs = deps.rafraichissementMs ?? RAFRAICHISSEMENT_MS;
    this.clock = deps.clock ?? Date.now;
  }

  /** The last state read, without waiting (pages being rendered, the transport's guard). */
  dernier(): EtatIncidents {
    return this.courant;
  }

  /** The state, read again first when the last read is older than the refresh delay. */
  etat(): Promise<EtatIncidents> {
    if (this.clock() - this.luLe < this.rafraichissementMs) return Promise.resolve(this.courant);
    return this.lire();
  }

  /** Reads now (after this instance turned a switch); concurrent callers share one read. */
  lire(): Promise<EtatIncidents> {
    if (this.lecture) return this.lecture;
    const lecture = this.lireMaintenant().finally(() => {
      if (this.lecture === lecture) this.lecture = null;
    });
    this.lecture = lecture;
    return lecture;
  }

  private async lireMaintenant(): Promise<EtatIncidents> {
    try {
      this.courant = etatDe(await this.deps.db.selectFrom('incident_interrupteurs').selectAll().execute());
    } catch (error) {
      this.deps.logger.error({ err: error }, 'lecture des interrupteurs d’incident impossible : le dernier état lu reste appliqué');
    }
    this.luLe = this.clock();
    for (const observe of this.observateurs) observe(this.courant);
    return this.courant;
  }

  /** Told of every state read (the integrity guard watches its notice). */
  observer(observe: (etat: EtatIncidents) => void): void {
    this.observateurs.push(observe);
  }

  /**
   * For the campaign runner of issue 14: the `campagnes` switch when it is on, else null. The
   * runner asks before claiming each item and claims nothing while the answer is a switch.
   */
  async campagnesArretees(): Promise<Interrupteur | null> {
    const campagnes = (await this.etat()).interrupteurs.campagnes;
    return campagnes.actif ? campagnes : null;
  }
}
