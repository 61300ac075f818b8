import { randomUUID } from 'node:crypto';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Acteur } from '../audit/index.ts';
import { dateSaisie, horloge, invalide, libelleAgent, type ControleDeps } from './commun.ts';
import { estUnAcces, nouvelleGraine, tirerEchantillon } from './echantillon.ts';
import type { EntreeLisible, LectureJournal } from './lecture-journal.ts';
import { instantDebut, instantFin, jourFrancais, jourParis } from './periode.ts';

export interface ControleResume {
  readonly id: string;
  readonly du: string;
  readonly au: string;
  readonly taille: number;
  readonly creeLe: string;
  readonly creePar: string;
  readonly closLe: string | null;
}

export interface ControleDetail extends ControleResume {
  readonly graine: string;
  readonly observations: string | null;
  readonly entrees: readonly EntreeLisible[];
  /** The sample drawn again from the seed over the same period: true when it is the same. */
  readonly reproductible: boolean;
  readonly population: number;
  /** The highest journal sequence number when the control was drawn (null for controls made before it was kept). */
  readonly borne: number | null;
  /** The auditor's verdict on each sampled entry examined so far, by sequence number. */
  readonly verdicts: Readonly<Record<number, VerdictControle>>;
}

export const VERDICTS = { conforme: 'Conforme', non_conforme: 'Non conforme' } as const;
export type CodeVerdict = keyof typeof VERDICTS;

export interface VerdictControle {
  readonly verdict: CodeVerdict;
  readonly commentaire: string | null;
  readonly le: string;
  readonly par: string;
}

export const COMMENTAIRE_MAX = 1000;

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const controleIntrouvable = () => new QuotientError('not_found', 'controle_introuvable', 'Ce contrôle n’existe pas.');
export const TAILLE_MAX = 200;
/** A control covers a year at most: viewing it draws the sample again over its whole period. */
export const PERIODE_MAX_JOURS = 366;
const OBSERVATIONS_MAX = 5000;

/** Periodic controls: a random, reproducible sample of agents' accesses to families' data over a period. */
export class ControlesPeriodiques {
  constructor(
    private readonly deps: ControleDeps,
    private readonly lecture: LectureJournal,
  ) {}

  /**
   * Seq numbers of the accesses to families' data by agents over a period (the control's population),
   * up to `borne` (the journal's last entry when the control was drawn): what is written later,
   * even dated within the period, does not change the population, so the draw stays reproducible.
   */
  private async population(du: string, au: string, borne: number | null): Promise<number[]> {
    const seqs: number[] = [];
    // Entries come oldest first, by sequence number: nothing after the bound needs reading.
    for await (const e of this.deps.journal.exportMatching({ actor: { type: 'agent' }, from: instantDebut({ jour: du }), to: instantFin({ jour: au }) })) {
      if (borne !== null && e.seq > borne) break;
      if (estUnAcces(e)) seqs.push(e.seq);
    }
    return seqs;
  }

  async creerControle(saisi: { du?: string; au?: string; taille?: string }, par: Acteur): Promise<string> {
    const problems: ErrorDetail[] = [];
    const du = dateSaisie(saisi.du, 'du', 'du', problems);
    const au = dateSaisie(saisi.au, 'au', 'au', problems);
    if (!saisi.du?.trim()) problems.push({ path: 'du', message: 'Indiquez le premier jour de la période contrôlée.' });
    if (!saisi.au?.trim()) problems.push({ path: 'au', message: 'Indiquez le dernier jour de la période contrôlée.' });
    if ((du && !('jour' in du)) || (au && !('jour' in au)))
      problems.push({ path: du && !('jour' in du) ? 'du' : 'au', message: 'Indiquez un jour, au format JJ/MM/AAAA.' });
    const tailleTexte = (saisi.taille ?? '').trim();
    const taille = /^[0-9]{1,4}$/.test(tailleTexte) ? Number(tailleTexte) : Number.NaN;
    if (!Number.isInteger(taille) || taille < 1 || taille > TAILLE_MAX)
      problems.push({ path: 'taille', message: `Indiquez un nombre d’accès à tirer entre 1 et ${TAILLE_MAX}.` });
    const jourDu = du && 'jour' in du ? du.jour : undefined;
    const jourAu = au && 'jour' in au ? au.jour : undefined;
    const aujourdhui = jourParis(new Date(horloge(this.deps)).toISOString());
    if (jourDu && jourAu && jourDu > jourAu) problems.push({ path: 'au', message: 'La date de fin précède la date de début.' });
    else if (jourAu && jourAu > aujourdhui)
      problems.push({
        path: 'au',
        message: 'La période contrôlée ne peut pas finir après aujourd’hui : les accès à venir ne sont pas encore dans le journal.',
      });
    else if (jourDu && jourAu && joursEntre(jourDu, jourAu) + 1 > PERIODE_MAX_JOURS) {
      problems.push({
        path: 'du',
        message: `La période contrôlée ne peut pas dépasser ${PERIODE_MAX_JOURS} jours : choisissez une période plus courte, ou faites plusieurs contrôles.`,
      });
    }
    if (problems.length > 0 || !jourDu || !jourAu) throw invalide('Vérifiez les informations du contrôle.', problems);

    // The journal's last entry now bounds the population for good (see population()).
    const borne = (await this.deps.journal.query({}, { limit: 1 })).entries[0]?.seq ?? 0;
    const population = await this.population(jourDu, jourAu, borne);
    // Nothing to draw from: a control of nothing would prove nothing, and say so only once drawn.
    if (population.length === 0)
      throw invalide('Aucun accès à contrôler sur cette période.', [
        {
          path: 'du',
          message: `Aucun agent n’a consulté de dossier de famille du ${jourFrancais(jourDu)} au ${jourFrancais(jourAu)} : il n’y a rien à tirer au sort. Choisissez une autre période.`,
        },
      ]);
    const graine = nouvelleGraine();
    const echantillon = tirerEchantillon(population, graine, taille);
    const id = randomUUID();
    const maintenant = new Date(horloge(this.deps)).toISOString();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('controles')
        .values({
          id,
          periode_du: jourDu,
          periode_au: jourAu,
          echantillon: JSON.stringify({ seqs: echantillon, borne } satisfies Echantillon),
          graine,
          cree_le: maintenant,
          cree_par: par.id,
          observations: null,
          clos_le: null,
        })
        .execute();
      await this.deps.journal.append(
        {
          actor: par,
          action: 'controle.cree',
          target: { type: 'controle', id },
          outcome: 'succes',
          details: { du: jourDu, au: jourAu, taille: echantillon.length, demandee: taille, population: population.length, borne },
        },
        trx,
      );
    });
    return id;
  }

  async listerControles(): Promise<ControleResume[]> {
    const rows = await this.deps.db.selectFrom('controles').selectAll().orderBy('cree_le', 'desc').execute();
    const agents = new Map((await this.deps.agents.lister()).map((a) => [a.id, libelleAgent(a)]));
    return rows.map((r) => ({
      id: r.id,
      du: r.periode_du,
      au: r.periode_au,
      taille: parseEchantillon(r.echantillon).seqs.length,
      creeLe: r.cree_le,
      creePar: agents.get(r.cree_par) ?? r.cree_par,
      closLe: r.clos_le,
    }));
  }

  private async ligne(id: string) {
    const row = ID.test(id) ? await this.deps.db.selectFrom('controles').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    if (!row) throw controleIntrouvable();
    return row;
  }

  /** A control with its sampled entries, drawn again from the seed to show it reproduces; journaled. */
  async controle(id: string, par: Acteur): Promise<ControleDetail> {
    const row = await this.ligne(id);
    const { seqs: echantillon, borne } = parseEchantillon(row.echantillon);
    const page = await this.deps.journal.query({ seqs: echantillon }, { limit: TAILLE_MAX });
    const population = await this.population(row.periode_du, row.periode_au, borne);
    const encore = tirerEchantillon(population, row.graine, echantillon.length);
    await this.deps.journal.append({
      actor: par,
      action: 'controle.consulte',
      target: { type: 'controle', id },
      outcome: 'succes',
      details: { entrees: page.entries.length },
    });
    const agents = new Map((await this.deps.agents.lister()).map((a) => [a.id, libelleAgent(a)]));
    const verdicts: Record<number, VerdictControle> = {};
    for (const v of await this.deps.db.selectFrom('controle_verdicts').selectAll().where('controle_id', '=', id).execute())
      verdicts[v.sequence] = { verdict: v.verdict, commentaire: v.commentaire, le: v.le, par: agents.get(v.par) ?? v.par };
    return {
      verdicts,
      id: row.id,
      du: row.periode_du,
      au: row.periode_au,
      taille: echantillon.length,
      creeLe: row.cree_le,
      creePar: agents.get(row.cree_par) ?? row.cree_par,
      closLe: row.clos_le,
      graine: row.graine,
      observations: row.observations,
      entrees: await this.lecture.lisibles([...page.entries].reverse()),
      reproductible: encore.length === echantillon.length && encore.every((s, i) => s === echantillon[i]),
      population: population.length,
      borne,
    };
  }

  /**
   * The auditor's verdict on one sampled entry: conforme, or non conforme with a comment saying why.
   * Given again, it replaces the earlier one; journaled each time; refused once the control is closed.
   */
  async enregistrerVerdict(id: string, sequence: number, saisi: { verdict?: string; commentaire?: string }, par: Acteur): Promise<void> {
    const row = await this.ligne(id);
    if (!parseEchantillon(row.echantillon).seqs.includes(sequence))
      throw new QuotientError('not_found', 'entree_hors_echantillon', 'Cette entrée du journal ne fait pas partie de l’échantillon de ce contrôle.');
    if (row.clos_le !== null) throw new QuotientError('conflict', 'controle_clos', 'Ce contrôle est clos : ses verdicts ne peuvent plus être modifiés.');
    const problems: ErrorDetail[] = [];
    const verdict = saisi.verdict !== undefined && Object.hasOwn(VERDICTS, saisi.verdict) ? (saisi.verdict as CodeVerdict) : undefined;
    if (!verdict) problems.push({ path: 'verdict', message: `Indiquez si l’accès n° ${sequence} est conforme ou non conforme.` });
    const commentaire = (saisi.commentaire ?? '').replace(/\r\n/g, '\n').trim();
    if (commentaire.length > COMMENTAIRE_MAX)
      problems.push({ path: 'commentaire', message: `Le commentaire ne doit pas dépasser ${COMMENTAIRE_MAX} caractères.` });
    else if (ressembleANumeroFiscal(commentaire)) problems.push({ path: 'commentaire', message: 'Le commentaire ne doit pas contenir de numéro fiscal.' });
    else if (verdict === 'non_conforme' && commentaire === '')
      problems.push({ path: 'commentaire', message: `Expliquez pourquoi l’accès n° ${sequence} n’est pas conforme, et la suite donnée.` });
    if (problems.length > 0 || !verdict) throw new QuotientError('invalid', 'verdict_invalide', 'Vérifiez le verdict.', { details: problems });
    const maintenant = new Date(horloge(this.deps)).toISOString();
    await this.deps.journal.inTransaction(async (trx) => {
      // Checked again inside the transaction: a control closed meanwhile keeps its verdicts.
      const ouvert = await trx.selectFrom('controles').select('id').where('id', '=', id).where('clos_le', 'is', null).executeTakeFirst();
      if (!ouvert) throw new QuotientError('conflict', 'controle_clos', 'Ce contrôle vient d’être clos : ses verdicts ne peuvent plus être modifiés.');
      const valeurs = { verdict, commentaire: commentaire === '' ? null : commentaire, le: maintenant, par: par.id };
      await trx
        .insertInto('controle_verdicts')
        .values({ controle_id: id, sequence, ...valeurs })
        .onConflict((oc) => oc.columns(['controle_id', 'sequence']).doUpdateSet(valeurs))
        .execute();
      await this.deps.journal.append(
        {
          actor: par,
          action: 'controle.verdict_enregistre',
          target: { type: 'controle', id },
          outcome: 'succes',
          details: { sequence, verdict, caracteres: commentaire.length },
        },
        trx,
      );
    });
  }

  /** Saves the auditor's observations and, when asked, closes the control (then nothing changes any more). */
  async enregistrerObservations(id: string, observations: string, clore: boolean, par: Acteur): Promise<void> {
    const row = await this.ligne(id);
    if (row.clos_le !== null) throw new QuotientError('conflict', 'controle_clos', 'Ce contrôle est clos : ses observations ne peuvent plus être modifiées.');
    const texte = observations.replace(/\r\n/g, '\n').trim();
    const problems: ErrorDetail[] = [];
    if (texte.length > OBSERVATIONS_MAX)
      problems.push({ path: 'observations', message: `Les observations ne doivent pas dépasser ${OBSERVATIONS_MAX} caractères.` });
    if (clore && texte === '')
      problems.push({ path: 'observations', message: 'Indiquez vos observations avant de clore le contrôle, même pour dire qu’aucun accès n’est injustifié.' });
    if (ressembleANumeroFiscal(texte)) problems.push({ path: 'observations', message: 'Les observations ne doivent pas contenir de numéro fiscal.' });
    if (problems.length > 0) throw new QuotientError('invalid', 'observations_invalides', 'Vérifiez vos observations.', { details: problems });
    const maintenant = new Date(horloge(this.deps)).toISOString();
    await this.deps.journal.inTransaction(async (trx) => {
      const done = await trx
        .updateTable('controles')
        .set({ observations: texte === '' ? null : texte, ...(clore ? { clos_le: maintenant } : {}) })
        .where('id', '=', id)
        .where('clos_le', 'is', null)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1)
        throw new QuotientError('conflict', 'controle_clos', 'Ce contrôle vient d’être clos : ses observations ne peuvent plus être modifiées.');
      await this.deps.journal.append(
        {
          actor: par,
          action: clore ? 'controle.clos' : 'controle.observations_enregistrees',
          target: { type: 'controle', id },
          outcome: 'succes',
          details: { caracteres: texte.length },
        },
        trx,
      );
    });
  }
}

/** What `controles.echantillon` holds: the sampled seqs and the bound of the population. */
interface Echantillon {
  readonly seqs: readonly number[];
  readonly borne: number | null;
}

/** Also reads the controls stored before the bound was kept: a plain array of seqs, no bound. */
function parseEchantillon(text: string): Echantillon {
  const entiers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((n): n is number => Number.isSafeInteger(n)) : []);
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return { seqs: entiers(parsed), borne: null };
    if (parsed !== null && typeof parsed === 'object') {
      const { seqs, borne } = parsed as { seqs?: unknown; borne?: unknown };
      return { seqs: entiers(seqs), borne: Number.isSafeInteger(borne) ? (borne as number) : null };
    }
  } catch {
    // An unreadable sample is shown empty (and not reproducible) rather than failing the page.
  }
  return { seqs: [], borne: null };
}

/** Days from one `AAAA-MM-JJ` to another (calendar days, no time zone involved). */
function joursEntre(du: string, au: string): number {
  return Math.round((Date.parse(`${au}T00:00:00Z`) - Date.parse(`${du}T00:00:00Z`)) / 86_400_000);
}
