import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  actionsPermises,
  estimerFin,
  progression,
  transitionCampagne,
  type ActionCampagne,
  type Progression,
  type StatutCampagne,
  type TypeCampagne,
} from '../../domain/campagne.ts';
import { formatDateCourte } from '../../domain/dates.ts';
import { QuotientError } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { DialectName } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { asJson, type Coffre } from '../../infra/silo/coffre.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { csvStream } from '../../infra/csv/csv.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { newReference } from '../demandes/demandes-repo.ts';
import {
  COFFRE_ELEMENT,
  compteurs,
  famillesParReference,
  findCampagne,
  insererElements,
  referencesEnCours,
  resultatsDepuis,
  type Campagne,
  type NouvelElement,
} from './campagnes-repo.ts';
import { donneesElement, type DonneesElement } from './donnees-element.ts';
import { lireImport, type ErreurLigne, type LigneImportee } from './import-csv.ts';
import { ENTETE_RAPPORT, lignesRapport } from './rapport.ts';
import type { SourceRenouvellements } from './renouvellements.ts';

export interface CampagnesDeps {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly renouvellements: SourceRenouvellements;
  /** DGFIP_QUOTA_PER_MINUTE. */
  readonly quotaParMinute: number;
  /** Calls one foyer fiscal costs by état civil: 1 by SFiP, 2 by R2P then Impôt particulier; 0: no état civil route. */
  readonly appelsParFoyer: number;
  /** The quota's use in the last window (online and campaigns together), for the estimate. */
  readonly quota?: { usage(): Promise<{ used: number; limit: number }> };
  readonly clock?: () => number;
}

/** What an import would do (dry run) or did: the lines checked, and what the campaign would hold. */
export interface RapportImport {
  readonly fichier: string;
  readonly lecture: string;
  readonly lignesLues: number;
  readonly valides: number;
  readonly erreurs: readonly ErreurLigne[];
  readonly avertissements: readonly ErreurLigne[];
  readonly famillesExistantes: number;
  readonly famillesNouvelles: number;
  readonly avecFormulaire: number;
  readonly avecAccordPermanent: number;
  readonly appelsEstimes: number;
  /** Minutes at the whole quota, rounded up. */
  readonly dureeMinutes: number;
  /** The same file already imported (its SHA-256), by campaign reference. */
  readonly dejaImporte: string | null;
}

export interface EtatCampagne {
  readonly id: string;
  readonly reference: string;
  readonly libelle: string;
  readonly type: TypeCampagne;
  readonly statut: StatutCampagne;
  readonly creeeLe: string;
  readonly creeePar: string;
  readonly demarreeLe: string | null;
  readonly demarreePar: string | null;
  readonly termineeLe: string | null;
  readonly motif: string | null;
  readonly fichier: string | null;
  readonly progression: Progression;
  /** Epoch ms, at the current quota; null when ended, not running, or no slot left to it. */
  readonly finEstimee: number | null;
  readonly actions: readonly ActionCampagne[];
}

const MOTIF_MAX = 500;

function motifValide(motif: string): string {
  const m = motif.trim();
  if (m.length < 3 || m.length > MOTIF_MAX) throw new QuotientError('invalid', 'motif_invalide', `Indiquez le motif (3 à ${MOTIF_MAX} caractères).`);
  if (ressembleANumeroFiscal(m)) throw new QuotientError('invalid', 'motif_invalide', 'Le motif ne doit contenir aucun numéro fiscal.');
  return m;
}

function libelleValide(libelle: string): string {
  const l = libelle.trim();
  if (l.length < 3 || l.length > 120) throw new QuotientError('invalid', 'libelle_invalide', 'Donnez un nom à la campagne (3 à 120 caractères).');
  if (ressembleANumeroFiscal(l)) throw new QuotientError('invalid', 'libelle_invalide', 'Le nom de la campagne ne doit contenir aucun numéro fiscal.');
  return l;
}

const introuvable = () => new QuotientError('not_found', 'campagne_introuvable', 'Campagne introuvable.');

/**
 * The campaigns as administrators run them: an import checked line by line (a dry run that
 * changes nothing, or the campaign created ready to start), a renewal of the standing consents,
 * start, pause, resume and cancel, progress and the estimate of the end. The items themselves are
 * processed by the workers (`ExecuteurCampagnes`).
 */
export class CampagnesService {
  private readonly clock: () => number;

  constructor(private readonly deps: CampagnesDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  private exigerEtatCivil(): void {
    if (this.deps.appelsParFoyer <= 0) {
      throw new QuotientError(
        'forbidden',
        'modalite_non_habilitee',
        'L’habilitation de la commune ne permet pas l’interrogation par état civil (SFiP ou R2P) : une campagne ne peut pas appeler la DGFiP.',
      );
    }
  }

  /** Reads and checks an import; what the database adds (families known, lines in another campaign, consents). */
  private async analyser(octets: Uint8Array, fichier: string, agentId: string) {
    this.exigerEtatCivil();
    const lecture = lireImport(octets, parisDate(this.clock()));
    const references = lecture.lignes.map((l) => l.reference);
    const [familles, enCours] = await Promise.all([famillesParReference(this.deps.db, references), referencesEnCours(this.deps.db, references)]);
    const erreurs = [...lecture.erreurs];
    const retenues: Array<{ ligne: LigneImportee; familleId: string | null; donnees: DonneesElement }> = [];
    const maintenant = this.now();
    let permanents = 0;
    for (const ligne of lecture.lignes) {
      const autre = enCours.get(ligne.reference);
      if (autre) {
        erreurs.push({
          ligne: ligne.numero,
          colonne: 'reference',
          message: `Ligne ${ligne.numero} : la famille « ${ligne.reference} » est déjà dans la campagne ${autre}, pas encore terminée.`,
        });
        continue;
      }
      const familleId = familles.get(ligne.reference) ?? null;
      // Invariant 2: the line's signed form, or a standing consent in force for each declarant called.
      const accords = ligne.accord === null && familleId !== null ? await this.deps.renouvellements.accordsEnVigueur(familleId, maintenant) : [];
      const couverts = ligne.accord !== null || (accords.length > 0 && ligne.rangsAppeles.every((r) => accords.some((a) => a.rang === r)));
      if (!couverts) {
        erreurs.push({
          ligne: ligne.numero,
          colonne: 'accord_date',
          message: `Ligne ${ligne.numero} : aucun accord de la famille : indiquez la date et la référence du formulaire signé (accord_date, accord_reference) ; sans lui, seule une famille ayant un accord de renouvellement en vigueur peut être interrogée.`,
        });
        continue;
      }
      if (ligne.accord === null) permanents++;
      retenues.push({ ligne, familleId, donnees: donneesElement(ligne, ligne.accord === null ? accords : null, agentId) });
    }
    erreurs.sort((a, b) => a.ligne - b.ligne);
    const empreinte = createHash('sha256').update(octets).digest('hex');
    const deja = await this.deps.db
      .selectFrom('campagnes')
      .select('reference')
      .where('fichier_empreinte', '=', empreinte)
      .where('statut', '!=', 'annulee')
      .executeTakeFirst();
    const appels = retenues.reduce((n, r) => n + r.ligne.rangsAppeles.length * this.deps.appelsParFoyer, 0);
    const rapport: RapportImport = {
      fichier,
      lecture: lecture.lecture,
      lignesLues: lecture.total,
      valides: retenues.length,
      erreurs,
      avertissements: lecture.avertissements,
      famillesExistantes: retenues.filter((r) => r.familleId !== null).length,
      famillesNouvelles: retenues.filter((r) => r.familleId === null).length,
      avecFormulaire: retenues.length - permanents,
      avecAccordPermanent: permanents,
      appelsEstimes: appels,
      dureeMinutes: Math.ceil(appels / this.deps.quotaParMinute),
      dejaImporte: deja?.reference ?? null,
    };
    return { rapport, retenues, empreinte };
  }

  /** The dry run: every check of the import, and what it would do; nothing is written but the journal's trace. */
  async essayerImport(octets: Uint8Array, fichier: string, acteur: Acteur): Promise<RapportImport> {
    const { rapport } = await this.analyser(octets, nomFichier(fichier), acteur.id);
    await this.deps.journal.append({
      actor: acteur,
      action: 'campagne.essai',
      outcome: rapport.erreurs.length === 0 ? 'succes' : 'echec',
      details: { lignes: rapport.lignesLues, valides: rapport.valides, erreurs: rapport.erreurs.length },
    });
    return rapport;
  }

  /**
   * Creates the campaign, ready to start, from a file without errors; with errors, nothing is
   * created and the report says why (`campagne` absent).
   */
  async importer(
    octets: Uint8Array,
    fichier: string,
    libelle: string,
    acteur: Acteur & { type: 'agent' },
  ): Promise<{ rapport: RapportImport; campagne?: { id: string; reference: string } }> {
    const nom = libelleValide(libelle);
    const { rapport, retenues, empreinte } = await this.analyser(octets, nomFichier(fichier), acteur.id);
    if (rapport.erreurs.length > 0 || retenues.length === 0) return { rapport };
    const campagne = await this.creer(
      { type: 'import', libelle: nom, fichier: rapport.fichier, empreinte },
      retenues.map((r, i) => ({
        rang: i + 1,
        reference: r.ligne.reference,
        familleId: r.familleId,
        donnees: r.donnees,
        accord: r.ligne.accord
          ? {
              mode: 'formulaire_signe',
              piece: `${r.ligne.accord.reference} du ${formatDateCourte(r.ligne.accord.date)}`,
              le: r.ligne.accord.date,
              renouvellement: null,
            }
          : { mode: 'renouvellement', piece: null, le: null, renouvellement: r.donnees.foyers.map((f) => f.accord.id).join(',') },
      })),
      acteur,
    );
    return { rapport, campagne };
  }

  /** A renewal campaign: every family whose standing consent is in force and whose QF expires before `date`. */
  async creerRenouvellement(date: string, libelle: string, acteur: Acteur): Promise<{ id: string; reference: string; total: number }> {
    this.exigerEtatCivil();
    const nom = libelleValide(libelle);
    // Reading the kept états civils is the robot's, on behalf of whoever creates the campaign.
    const dus = await this.deps.renouvellements.renouvellementsDus(date, {
      type: 'robot',
      id: 'campagne:renouvellement',
      onBehalfOf: { type: acteur.type, id: acteur.id },
    });
    if (dus.length === 0)
      throw new QuotientError('conflict', 'aucun_renouvellement', 'Aucune famille n’a d’accord de renouvellement en vigueur à renouveler à cette date.');
    const { id, reference } = await this.creer(
      { type: 'renouvellement', libelle: nom, fichier: null, empreinte: null },
      dus.map((d, i) => ({
        rang: i + 1,
        reference: d.reference,
        familleId: d.familleId,
        donnees: {
          famille: null,
          foyers: d.foyers.map((f) => ({ rang: f.rang, etatCivil: f.etatCivil, accord: f.accord })),
          ...(d.aRedemander && d.aRedemander.length > 0 ? { aRedemander: d.aRedemander } : {}),
        },
        accord: { mode: 'renouvellement', piece: null, le: null, renouvellement: d.foyers.map((f) => f.accord.id).join(',') },
      })),
      acteur,
    );
    return { id, reference, total: dus.length };
  }

  private async creer(
    c: { type: TypeCampagne; libelle: string; fichier: string | null; empreinte: string | null },
    elements: ReadonlyArray<{
      rang: number;
      reference: string;
      familleId: string | null;
      donnees: DonneesElement;
      accord: { mode: string; piece: string | null; le: string | null; renouvellement: string | null };
    }>,
    acteur: Acteur,
  ): Promise<{ id: string; reference: string }> {
    const id = randomUUID();
    const reference = newReference('C');
    const now = this.now();
    const lignes: NouvelElement[] = elements.map((e) => ({
      id: randomUUID(),
      campagne_id: id,
      rang: e.rang,
      reference: e.reference,
      famille_id: e.familleId,
      accord_mode: e.accord.mode,
      accord_piece: e.accord.piece,
      accord_le: e.accord.le,
      accord_renouvellement_id: e.accord.renouvellement,
    }));
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('campagnes')
        .values({
          id,
          reference,
          libelle: c.libelle,
          type: c.type,
          statut: 'brouillon',
          annee_revenus: null,
          total: elements.length,
          fichier_nom: c.fichier,
          fichier_empreinte: c.empreinte,
          creee_le: now,
          creee_par: acteur.id,
          demarree_le: null,
          demarree_par: null,
          terminee_le: null,
          motif: null,
          modifiee_le: now,
        })
        .execute();
      await insererElements(trx, lignes);
      // The état civil and household of each item wait encrypted in the silo, until its result.
      for (const [i, e] of elements.entries()) await this.deps.coffre.put(COFFRE_ELEMENT, (lignes[i] as NouvelElement).id, asJson(e.donnees), trx);
      await this.deps.journal.append(
        { actor: acteur, action: 'campagne.creee', target: { type: 'campagne', id }, outcome: 'succes', details: { type: c.type, elements: elements.length } },
        trx,
      );
    });
    return { id, reference };
  }

  /** Start, pause, resume or cancel (every instance's workers see it at their next claim). */
  async agir(id: string, action: Exclude<ActionCampagne, 'terminer'>, acteur: Acteur & { type: 'agent' | 'systeme' }, motif?: string): Promise<EtatCampagne> {
    const raison = action === 'pause' || action === 'annuler' ? motifValide(motif ?? '') : null;
    await this.deps.journal.inTransaction(async (trx) => {
      const c = await findCampagne(trx, id);
      if (!c) throw introuvable();
      const vers = transitionCampagne(c.statut, action);
      const now = this.now();
      const updated = await trx
        .updateTable('campagnes')
        .set({
          statut: vers,
          modifiee_le: now,
          version: c.version + 1,
          ...(action === 'demarrer' ? { demarree_le: now, demarree_par: acteur.id } : {}),
          ...(action === 'annuler' ? { terminee_le: now } : {}),
          ...(raison !== null ? { motif: raison } : action === 'reprendre' ? { motif: null } : {}),
        })
        .where('id', '=', id)
        .where('version', '=', c.version)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1)
        throw new QuotientError('conflict', 'campagne_modifiee', 'La campagne a été modifiée entre-temps : rechargez la page.');
      const code = { demarrer: 'demarree', pause: 'mise_en_pause', reprendre: 'reprise', annuler: 'annulee' }[action];
      await this.deps.journal.append(
        {
          actor: acteur,
          action: `campagne.${code}`,
          target: { type: 'campagne', id },
          outcome: 'succes',
          details: { de: c.statut, vers, ...(raison ? { motif: raison } : {}) },
        },
        trx,
      );
    });
    return this.etat(id);
  }

  /** The report's rows (CSV, streamed), its download journaled. */
  async rapport(id: string, acteur: Acteur): Promise<{ nom: string; lignes: AsyncIterable<string> }> {
    const c = await findCampagne(this.deps.db, id);
    if (!c) throw introuvable();
    await this.deps.journal.append({ actor: acteur, action: 'campagne.rapport_telecharge', target: { type: 'campagne', id }, outcome: 'succes' });
    return { nom: `rapport-${c.reference}.csv`, lignes: csvStream(ENTETE_RAPPORT, lignesRapport(this.deps.db, id)) };
  }

  async lister(): Promise<EtatCampagne[]> {
    const rows = await this.deps.db.selectFrom('campagnes').selectAll().orderBy('creee_le', 'desc').limit(200).execute();
    return Promise.all(rows.map((c) => this.etatDe(c)));
  }

  /**
   * What the dashboard shows: the campaigns not ended (running first, then paused, then ready),
   * and those ended in the last `joursTermines` days; at most `max`.
   */
  async pourTableauDeBord(options: { max?: number; joursTermines?: number } = {}): Promise<EtatCampagne[]> {
    const depuis = new Date(this.clock() - (options.joursTermines ?? 7) * 86_400_000).toISOString();
    const rows = await this.deps.db
      .selectFrom('campagnes')
      .selectAll()
      .where((eb) => eb.or([eb('statut', 'in', ['brouillon', 'en_cours', 'en_pause']), eb('terminee_le', '>=', depuis)]))
      .orderBy('creee_le', 'desc')
      .limit(options.max ?? 10)
      .execute();
    const rang = { en_cours: 0, en_pause: 1, brouillon: 2, terminee: 3, annulee: 3 } as const;
    const etats = await Promise.all(rows.map((c) => this.etatDe(c)));
    return etats.sort((a, b) => rang[a.statut] - rang[b.statut]);
  }

  async etat(id: string): Promise<EtatCampagne> {
    const c = await findCampagne(this.deps.db, id);
    if (!c) throw introuvable();
    return this.etatDe(c);
  }

  private async etatDe(c: Campagne): Promise<EtatCampagne> {
    const p = progression(c.total, await compteurs(this.deps.db, c.id));
    let finEstimee: number | null = null;
    if (c.statut === 'en_cours' && p.restants > 0) {
      const usage = await this.deps.quota?.usage();
      // Online calls of the last minute: what campaigns cannot count on (those of campaigns are theirs).
      const recents = await resultatsDepuis(this.deps.db, c.id, new Date(this.clock() - 60_000).toISOString());
      const enLigne = usage ? Math.max(usage.used - recents * this.deps.appelsParFoyer, 0) : 0;
      finEstimee = estimerFin({
        restants: p.restants,
        quotaParMinute: this.deps.quotaParMinute,
        appelsParElement: this.deps.appelsParFoyer,
        appelsEnLigneParMinute: enLigne,
        maintenant: this.clock(),
      });
    }
    return {
      id: c.id,
      reference: c.reference,
      libelle: c.libelle,
      type: c.type,
      statut: c.statut,
      creeeLe: c.creee_le,
      creeePar: c.creee_par,
      demarreeLe: c.demarree_le,
      demarreePar: c.demarree_par,
      termineeLe: c.terminee_le,
      motif: c.motif,
      fichier: c.fichier_nom,
      progression: p,
      finEstimee,
      actions: actionsPermises(c.statut),
    };
  }
}

/** The file's name as shown: its last part, without anything shaped like a numéro fiscal. */
function nomFichier(nom: string): string {
  const dernier = nom.split(/[\\/]/).pop() ?? '';
  const propre = dernier.replace(/[^\p{L}\p{N} ._()-]/gu, '').slice(0, 120);
  return propre === '' || ressembleANumeroFiscal(propre) ? 'fichier.csv' : propre;
}
