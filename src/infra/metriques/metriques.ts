/**
 * What the operator graphs, in Prometheus' text format (prom-client). One registry per composition,
 * never prom-client's global one: two apps in one process (tests, demo) do not mix their series.
 *
 * Labels are closed sets only (route patterns, outcomes, channels, alert codes): no URL, no id, no
 * free text, so nothing shaped like a numéro fiscal can reach a series. What several instances
 * share (queue, quota, campaigns, journal) is read from the database at scrape time, the same on
 * every instance; what happens in one process (HTTP, upstream calls, alerts) is counted there.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The shared state, read when Prometheus scrapes. */
export interface SourcesMetriques {
  quota(): Promise<{ used: number; limit: number; pausedUntil: number | null }>;
  /** Requests waiting for their DGFiP call, by channel (en_ligne, guichet, campagne). */
  fileAttente(): Promise<ReadonlyArray<{ canal: string; n: number }>>;
  /** Items of the campaigns under way (or paused): processed and remaining. */
  campagnes(): Promise<{ enCours: number; traites: number; restants: number }>;
  /** The journal's head: the number of entries ever appended. */
  journalSequence(): Promise<number>;
}

/** The outcome of one attempt sent upstream, or why none could be used. */
export type IssueAppel = 'succes' | 'refus' | 'quota_depasse' | 'erreur_serveur' | string;

const METHODES = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const ETIQUETTE = /^[a-z0-9_.:-]{1,64}$/i;
/** A label value from a closed set; anything else becomes `autre` (defence in depth). */
const sure = (value: string) => (ETIQUETTE.test(value) && !/[0-9]{6}/.test(value) ? value : 'autre');

export class Metriques {
  readonly registre = new Registry();
  private readonly http: Histogram<'methode' | 'route' | 'statut'>;
  private readonly appels: Counter<'source' | 'issue'>;
  private readonly alertes: Counter<'code' | 'gravite'>;
  private branche = false;
  /** One read of each source per scrape, however many series it feeds. */
  private readonly lectures = new Map<string, Promise<unknown>>();

  constructor(options: { readonly processus?: boolean } = {}) {
    const registers = [this.registre];
    if (options.processus ?? true) collectDefaultMetrics({ register: this.registre, prefix: 'quotient_' });
    this.http = new Histogram({
      name: 'quotient_http_duree_secondes',
      help: 'Durée des réponses HTTP, par méthode, modèle de route (jamais l’adresse réelle) et code de statut.',
      labelNames: ['methode', 'route', 'statut'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.appels = new Counter({
      name: 'quotient_appels_amont_total',
      help: 'Appels envoyés à la DGFiP (ou à API Particulier), par issue : succes, refus (4xx), quota_depasse (429), erreur_serveur (5xx), ou la raison d’échec.',
      labelNames: ['source', 'issue'],
      registers,
    });
    this.alertes = new Counter({
      name: 'quotient_alertes_levees_total',
      help: 'Alertes de sécurité levées par ce processus, par code et gravité.',
      labelNames: ['code', 'gravite'],
      registers,
    });
  }

  /** `route` is the router's pattern (`/agents/demandes/:id`), undefined when no route matched. */
  observerRequete(methode: string, route: string | undefined, statut: number, secondes: number): void {
    this.http.observe(
      { methode: METHODES.has(methode) ? methode : 'AUTRE', route: route === undefined ? 'aucune' : route.slice(0, 120), statut: String(statut) },
      secondes,
    );
  }

  appelAmont(source: 'dgfip' | 'api_particulier', issue: IssueAppel): void {
    this.appels.inc({ source, issue: sure(issue) });
  }

  alerteLevee(code: string, gravite: string): void {
    this.alertes.inc({ code: sure(code), gravite: sure(gravite) });
  }

  /** The shared state's gauges, read from `sources` at each scrape; once per registry. */
  brancher(brutes: SourcesMetriques): void {
    if (this.branche) return;
    this.branche = true;
    const registers = [this.registre];
    const une =
      <T>(cle: string, lire: () => Promise<T>) =>
      (): Promise<T> => {
        if (!this.lectures.has(cle)) this.lectures.set(cle, lire());
        return this.lectures.get(cle) as Promise<T>;
      };
    const sources: SourcesMetriques = {
      quota: une('quota', () => brutes.quota()),
      fileAttente: une('file', () => brutes.fileAttente()),
      campagnes: une('campagnes', () => brutes.campagnes()),
      journalSequence: une('journal', () => brutes.journalSequence()),
    };
    new Gauge({
      name: 'quotient_quota_appels_minute',
      help: 'Appels DGFiP comptés dans la minute glissante (toutes instances).',
      registers,
      async collect() {
        this.set((await sources.quota()).used);
      },
    });
    new Gauge({
      name: 'quotient_quota_limite_minute',
      help: 'Appels DGFiP permis par minute (DGFIP_QUOTA_PER_MINUTE).',
      registers,
      async collect() {
        this.set((await sources.quota()).limit);
      },
    });
    new Gauge({
      name: 'quotient_quota_en_pause',
      help: '1 quand la DGFiP a demandé d’attendre (429, Retry-After), 0 sinon.',
      registers,
      async collect() {
        this.set((await sources.quota()).pausedUntil === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'quotient_file_attente_demandes',
      help: 'Demandes en attente de leur appel à la DGFiP, par canal.',
      labelNames: ['canal'],
      registers,
      async collect() {
        this.reset();
        for (const c of ['en_ligne', 'guichet', 'campagne']) this.set({ canal: c }, 0);
        for (const { canal, n } of await sources.fileAttente()) this.set({ canal: sure(canal) }, n);
      },
    });
    new Gauge({
      name: 'quotient_campagnes_elements',
      help: 'Éléments des campagnes en cours ou en pause : traites ou restants.',
      labelNames: ['etat'],
      registers,
      async collect() {
        const c = await sources.campagnes();
        this.set({ etat: 'traites' }, c.traites);
        this.set({ etat: 'restants' }, c.restants);
      },
    });
    new Gauge({
      name: 'quotient_campagnes_en_cours',
      help: 'Campagnes en cours ou en pause.',
      registers,
      async collect() {
        this.set((await sources.campagnes()).enCours);
      },
    });
    new Counter({
      name: 'quotient_journal_entrees_total',
      help: 'Entrées ajoutées au journal d’audit depuis son début (toutes instances).',
      registers,
      async collect() {
        this.reset();
        this.inc(await sources.journalSequence());
      },
    });
  }

  /** The exposition text and its content type. */
  async exposer(): Promise<{ contentType: string; texte: string }> {
    this.lectures.clear();
    try {
      return { contentType: this.registre.contentType, texte: await this.registre.metrics() };
    } finally {
      this.lectures.clear();
    }
  }
}
