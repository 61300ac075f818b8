import type { Kysely } from 'kysely';
import { CANAUX_DEMANDE, LIBELLES_CANAL, STATUTS, STATUTS_DEMANDE } from '../../domain/demande.ts';
import { eurosToCents, formatEuros } from '../../domain/money.ts';
import type { GrilleTranches, PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { PrixActivite } from '../../domain/tarification.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { MinuteQuota } from '../../infra/queue/quota-slot.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { AuditEntry, AuditFilter, JournalAudit } from '../audit/index.ts';
import type { EtatCampagne } from '../campagnes/campagnes-service.ts';
import { fileAttente, type FileAttente } from './file-attente.ts';

/**
 * The figures of the dashboard: aggregates only, never a family. Requests by status and channel,
 * the QFs in force by bracket of the tariff policy, the use of the DGFiP quota and the health of
 * the connection read from the journal (no call is spent on a probe: the quota is the families').
 */
export interface TableauDeBordDeps {
  readonly db: Kysely<Schema>;
  readonly journal: Pick<JournalAudit, 'count' | 'query' | 'exportMatching'>;
  /** The shared quota slot of the DGFiP (QuotaSlot): calls granted in the current window, and per minute over the last hour. */
  readonly quota: {
    usage(): Promise<{ used: number; limit: number; pausedUntil: number | null }>;
    parMinute(minutes?: number): Promise<MinuteQuota[]>;
  };
  /** The campaigns not ended and the recently ended ones, with their progress and estimated end (CampagnesService). */
  readonly campagnes: { pourTableauDeBord(): Promise<EtatCampagne[]> };
  readonly clock?: () => number;
}

export interface Barre {
  readonly cle: string;
  readonly libelle: string;
  readonly nombre: number;
}

export interface RepartitionQuotients {
  /** The activities priced with this grid; empty for the fallback bands. */
  readonly activites: readonly string[];
  readonly barres: readonly Barre[];
}

export type EtatDgfip = 'bon' | 'perturbe' | 'en_panne' | 'inconnu';

export interface AppelDgfip {
  readonly le: string;
  readonly reussi: boolean;
  readonly raison: string | null;
}

export interface TableauDeBord {
  readonly calculeLe: string;
  readonly demandesParStatut: readonly Barre[];
  readonly demandesParCanal: readonly Barre[];
  readonly totalDemandes: number;
  readonly quotients: {
    readonly enVigueur: number;
    readonly date: string;
    /** One per distinct bracket grid of the policy; none when every activity is priced at a rate. */
    readonly grilles: readonly RepartitionQuotients[];
    /** Fixed bands, when the policy has no brackets. */
    readonly paliers: RepartitionQuotients | null;
  };
  readonly quota: {
    readonly derniereMinute: number;
    readonly limite: number;
    readonly pauseJusqua: string | null;
    readonly derniereHeure: { readonly reussis: number; readonly echecs: number; readonly enAttenteDeCreneau: number };
    /** Slots granted per minute over the last hour, oldest first, online and campaigns apart (every instance). */
    readonly parMinute: readonly MinuteQuota[];
  };
  readonly campagnes: readonly EtatCampagne[];
  /** The queue across every instance, from the database. */
  readonly file: FileAttente;
  readonly dgfip: {
    readonly etat: EtatDgfip;
    readonly dernierSucces: string | null;
    readonly dernierEchec: AppelDgfip | null;
    readonly dernieres24h: { readonly reussis: number; readonly echecs: number; readonly enAttenteDeCreneau: number };
    readonly derniersAppels: readonly AppelDgfip[];
  };
}

interface QuotientEnVigueur {
  readonly cents: number;
  readonly prix: readonly Pick<PrixActivite, 'id' | 'tranche' | 'origine'>[];
}

const HORS_COMMUNE = 'hors-commune';
const SANS_TRANCHE = 'sans-tranche';
const PALIER_CENTS = 250_00;
const PALIERS = 8;
const HEURE = 3600_000;
const JOUR = 24 * HEURE;

/**
 * The journal entries that tell how a DGFiP call ended: an avis received, an answer that there is
 * none (the connection worked), a failure with its cause, the operator's connection test.
 */
const REUSSIS: readonly string[] = ['dgfip.situation_recue', 'demande.situation_indisponible'];
const ECHECS = 'demande.echec_appel';
const TEST = 'dgfip.check';
/** No slot before the deadline, or the DGFiP's 429: the quota, not the connection. */
const QUOTA = 'quota_depasse';

export class TableauDeBordService {
  constructor(private readonly deps: TableauDeBordDeps) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  async resume(politique: PolitiqueTarifaire): Promise<TableauDeBord> {
    const now = this.now();
    const [statuts, canaux, quotients, quota, heure, jour, derniers, parMinute, campagnes, file] = await Promise.all([
      this.compter('statut'),
      this.compter('canal'),
      this.quotientsEnVigueur(parisDate(now)),
      this.deps.quota.usage(),
      this.bilan(new Date(now - HEURE).toISOString()),
      this.bilan(new Date(now - JOUR).toISOString()),
      this.derniersAppels(20),
      this.deps.quota.parMinute(60),
      this.deps.campagnes.pourTableauDeBord(),
      fileAttente(this.deps.db, now),
    ]);
    const demandesParStatut = STATUTS_DEMANDE.map((s) => ({ cle: s, libelle: STATUTS[s].libelle, nombre: statuts.get(s) ?? 0 }));
    const demandesParCanal = CANAUX_DEMANDE.map((c) => ({ cle: c, libelle: capitalise(LIBELLES_CANAL[c]), nombre: canaux.get(c) ?? 0 }));
    // A status or channel that the lists above do not know is still counted, under its code.
    for (const [s, n] of statuts)
      if (!(STATUTS_DEMANDE as readonly string[]).includes(s)) demandesParStatut.push({ cle: s, libelle: s, nombre: n } as (typeof demandesParStatut)[number]);
    for (const [c, n] of canaux)
      if (!(CANAUX_DEMANDE as readonly string[]).includes(c)) demandesParCanal.push({ cle: c, libelle: c, nombre: n } as (typeof demandesParCanal)[number]);

    const grilles = grillesATranches(politique).map((g) => {
      // Each QF is counted in the tranche stored with it (priced with the version of its request's
      // day), not in the one today's grid would give; a flat price out of the commune has none.
      const compte = new Map<string, number>();
      for (const qf of quotients) {
        const cle = classer(qf.prix, g.ids);
        compte.set(cle, (compte.get(cle) ?? 0) + 1);
      }
      const barres: Barre[] = g.grille.tranches.map((t, i) => ({
        cle: t.code,
        libelle: `${t.libelle ?? `Tranche ${t.code}`} (${bornes(g.grille, i)})`,
        nombre: compte.get(t.code) ?? 0,
      }));
      // A tranche that the grid no longer has (an earlier version), still counted.
      for (const [cle, nombre] of compte) {
        if (cle !== HORS_COMMUNE && cle !== SANS_TRANCHE && !g.grille.tranches.some((t) => t.code === cle))
          barres.push({ cle, libelle: `Tranche ${cle} (grille antérieure)`, nombre });
      }
      const horsCommune = compte.get(HORS_COMMUNE) ?? 0;
      if (g.nonResident || horsCommune > 0) barres.push({ cle: HORS_COMMUNE, libelle: 'Hors commune (tarif fixe)', nombre: horsCommune });
      const sansTranche = compte.get(SANS_TRANCHE) ?? 0;
      if (sansTranche > 0) barres.push({ cle: SANS_TRANCHE, libelle: 'Sans tranche (activité absente ou prix calculé autrement)', nombre: sansTranche });
      return { activites: g.activites, barres };
    });
    const paliers =
      grilles.length > 0
        ? null
        : {
            activites: [],
            barres: Array.from({ length: PALIERS }, (_, i) => {
              const min = i * PALIER_CENTS;
              const last = i === PALIERS - 1;
              const libelle = last
                ? `${formatEuros(min, { wholeEuros: true })} et plus`
                : `De ${formatEuros(min, { wholeEuros: true })} à moins de ${formatEuros(min + PALIER_CENTS, { wholeEuros: true })}`;
              return { cle: String(i), libelle, nombre: quotients.filter(({ cents: qf }) => qf >= min && (last || qf < min + PALIER_CENTS)).length };
            }),
          };

    const succes = derniers.find((a) => a.reussi) ?? null;
    const echec = derniers.find((a) => !a.reussi && a.raison !== QUOTA) ?? null;
    return {
      calculeLe: new Date(now).toISOString(),
      demandesParStatut,
      demandesParCanal,
      totalDemandes: [...statuts.values()].reduce((a, b) => a + b, 0),
      quotients: { enVigueur: quotients.length, date: parisDate(now), grilles, paliers },
      quota: {
        derniereMinute: quota.used,
        limite: quota.limit,
        pauseJusqua: quota.pausedUntil === null ? null : new Date(quota.pausedUntil).toISOString(),
        derniereHeure: heure,
        parMinute,
      },
      campagnes,
      file,
      dgfip: { etat: etat(derniers, now), dernierSucces: succes?.le ?? null, dernierEchec: echec, dernieres24h: jour, derniersAppels: derniers },
    };
  }

  private async compter(colonne: 'statut' | 'canal'): Promise<Map<string, number>> {
    const rows = await this.deps.db
      .selectFrom('demandes')
      .select((eb) => [eb.ref(colonne).as('cle'), eb.fn.countAll<number | string>().as('n')])
      .groupBy(colonne)
      .execute();
    return new Map(rows.map((r) => [String(r.cle), Number(r.n)]));
  }

  /** The QF in force today of each family (its latest calculation valid today), in cents, with its stored prices. */
  private async quotientsEnVigueur(jour: string): Promise<QuotientEnVigueur[]> {
    const rows = await this.deps.db
      .selectFrom('quotients')
      .select(['famille_id', 'valeur_cents', 'prix', 'calcule_le'])
      .where('valide_du', '<=', jour)
      .where('valide_au', '>=', jour)
      .execute();
    const latest = new Map<string, { cents: number; prix: string; le: string }>();
    for (const r of rows) {
      const seen = latest.get(r.famille_id);
      if (!seen || r.calcule_le > seen.le) latest.set(r.famille_id, { cents: Number(r.valeur_cents), prix: r.prix, le: r.calcule_le });
    }
    return [...latest.values()].map((v) => ({ cents: v.cents, prix: prixStockes(v.prix) }));
  }

  /** How the DGFiP calls ended since `from`, from the journal. */
  private async bilan(from: string): Promise<{ reussis: number; echecs: number; enAttenteDeCreneau: number }> {
    const count = (filter: AuditFilter) => this.deps.journal.count({ ...filter, from });
    const [reussis, testsOk, testsKo] = await Promise.all([
      Promise.all(REUSSIS.map((action) => count({ action }))).then((ns) => ns.reduce((a, b) => a + b, 0)),
      count({ action: TEST, outcome: 'succes' }),
      count({ action: TEST, outcome: 'echec' }),
    ]);
    // Failures are few; their cause, kept in the details, tells the quota waits apart.
    let echecs = 0;
    let quota = 0;
    for await (const e of this.deps.journal.exportMatching({ action: ECHECS, from })) {
      if (e.details.raison === QUOTA) quota += 1;
      else echecs += 1;
    }
    return { reussis: reussis + testsOk, echecs: echecs + testsKo, enAttenteDeCreneau: quota };
  }

  /** The latest call outcomes, newest first. */
  private async derniersAppels(n: number): Promise<AppelDgfip[]> {
    const pages = await Promise.all([...REUSSIS, ECHECS, TEST].map((action) => this.deps.journal.query({ action }, { limit: n })));
    const entries: AuditEntry[] = pages
      .flatMap((p) => p.entries)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, n);
    return entries.map((e) => {
      const reussi = e.action === ECHECS ? false : e.action === TEST ? e.outcome === 'succes' : true;
      const raison = typeof e.details.raison === 'string' ? e.details.raison : reussi ? null : 'inconnue';
      return { le: e.time, reussi, raison };
    });
  }
}

/**
 * Good: the last call answered and none of the recent ones failed. Down: the last three failed.
 * Unknown: nothing in 24 hours. Waits for a quota slot say nothing about the connection.
 */
function etat(appels: readonly AppelDgfip[], now: number): EtatDgfip {
  const utiles = appels.filter((a) => a.raison !== QUOTA);
  const recent = utiles.filter((a) => Date.parse(a.le) > now - JOUR);
  if (recent.length === 0) return 'inconnu';
  const dix = recent.slice(0, 10);
  if (dix.every((a) => a.reussi)) return 'bon';
  const trois = recent.slice(0, 3);
  if (trois.length === 3 && trois.every((a) => !a.reussi)) return 'en_panne';
  return 'perturbe';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function euros(value: number): string {
  return formatEuros(eurosToCents(value) ?? 0, { wholeEuros: true });
}

function bornes(grille: GrilleTranches, i: number): string {
  const t = grille.tranches[i] as GrilleTranches['tranches'][number];
  if (t.max === undefined) return grille.borneIncluse === 'min' ? `à partir de ${euros(t.min)}` : `au-dessus de ${euros(t.min)}`;
  if (grille.borneIncluse === 'min') return `de ${euros(t.min)} à moins de ${euros(t.max)}`;
  return i === 0 ? `jusqu’à ${euros(t.max)} inclus` : `au-dessus de ${euros(t.min)}, jusqu’à ${euros(t.max)} inclus`;
}

/**
 * The bucket of a QF for a grid: the tranche stored for the first of the grid's activities priced
 * on a tranche; else « hors commune » when one was priced at the flat non-resident price.
 */
function classer(prix: QuotientEnVigueur['prix'], ids: readonly string[]): string {
  const lignes = ids.flatMap((id) => prix.filter((p) => p.id === id));
  const tranche = lignes.find((p) => p.tranche !== null)?.tranche;
  if (tranche) return tranche;
  return lignes.some((p) => p.origine === 'non-resident') ? HORS_COMMUNE : SANS_TRANCHE;
}

/** The prices stored with a QF (JSON); a row that cannot be read counts as « sans tranche ». */
function prixStockes(json: string): QuotientEnVigueur['prix'] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value.flatMap((p: unknown) => {
      if (typeof p !== 'object' || p === null) return [];
      const { id, tranche, origine } = p as Record<string, unknown>;
      return typeof id === 'string' ? [{ id, tranche: typeof tranche === 'string' ? tranche : null, origine: origine as PrixActivite['origine'] }] : [];
    });
  } catch {
    return [];
  }
}

/** The bracket grids of the policy, activities sharing the same grid counted once. */
function grillesATranches(politique: PolitiqueTarifaire): Array<{ grille: GrilleTranches; activites: string[]; ids: string[]; nonResident: boolean }> {
  const out = new Map<string, { grille: GrilleTranches; activites: string[]; ids: string[]; nonResident: boolean }>();
  for (const a of politique.activites) {
    if (a.grille.type !== 'tranches') continue;
    const g = a.grille;
    const key = JSON.stringify([g.borneIncluse, g.tranches.map((t) => [t.code, t.min, t.max ?? null])]);
    const seen = out.get(key);
    if (seen) {
      seen.activites.push(a.libelle);
      seen.ids.push(a.id);
      seen.nonResident ||= a.prixNonResident !== undefined;
    } else out.set(key, { grille: g, activites: [a.libelle], ids: [a.id], nonResident: a.prixNonResident !== undefined });
  }
  return [...out.values()];
}
