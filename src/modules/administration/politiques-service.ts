import { createHash, randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { formatDateFrancaise, parseDateSaisie } from '../../domain/dates.ts';
import { isQuotientError, QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { CODE_POLITIQUE_NUMERO_FISCAL, type PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { PolitiqueVersionTable, Schema } from '../../infra/db/schema.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { Acteur } from '../audit/audit-entry.ts';
import type { JournalAudit } from '../audit/journal-audit.ts';
import {
  CODE_SOURCE_CAF_NON_OFFERTE,
  exigerSourceOfferte,
  localiserErreurs,
  MESSAGE_SOURCE_CAF_NON_OFFERTE,
  parsePolitiqueYaml,
} from '../tarifs/politique-loader.ts';

export type StatutVersion = PolitiqueVersionTable['statut'];

export const LIBELLES_STATUTS: Readonly<Record<StatutVersion, string>> = {
  brouillon: 'Déposée, pas encore activée',
  programmee: 'Programmée',
  active: 'En vigueur',
  remplacee: 'Remplacée',
  abandonnee: 'Abandonnée',
};

/** The version read from the configuration file: in force until a version of the table takes over. */
export const ID_CONFIGURATION = 'configuration';
export const versionIntrouvable = () =>
  new QuotientError('not_found', 'politique_version_introuvable', 'Cette version de la politique tarifaire n’existe pas.');

export interface VersionPolitique {
  readonly id: string;
  readonly libelle: string;
  /** The YAML as deposited (or as read from the configuration file). */
  readonly contenu: string;
  readonly empreinte: string;
  readonly statut: StatutVersion;
  /** From this day (AAAA-MM-JJ) the version applies to requests; null for the configuration file and drafts. */
  readonly effetLe: string | null;
  readonly deposeeLe: string | null;
  readonly deposeePar: string | null;
  readonly activeeLe: string | null;
  readonly activeePar: string | null;
  readonly origine: 'configuration' | 'depot';
  /** Null only when a stored version no longer passes the rules of this release (it is then never used). */
  readonly politique: PolitiqueTarifaire | null;
  readonly erreur: string | null;
}

export interface PolitiquesDeps {
  readonly db: Kysely<Schema>;
  readonly journal: Pick<JournalAudit, 'append' | 'inTransaction'>;
  /** The policy of the configuration file: the initial version and the fallback. */
  readonly initiale: { readonly politique: PolitiqueTarifaire; readonly contenu: string; readonly fichier: string };
  readonly clock?: () => number;
}

/** Larger than any real policy by far (the same bound as the file loader). */
const MAX_OCTETS = 1_000_000;
/** Statuses whose version applies from its effective date on (a replaced one still covers the days before its successor). */
const APPLICABLES: readonly StatutVersion[] = ['programmee', 'active', 'remplacee'];

// base64url rather than hex: a run of 13 digits would read as a numéro fiscal to the journal's guard.
const empreinteDe = (texte: string) => createHash('sha256').update(texte).digest('base64url');
const systeme: Acteur = { type: 'systeme', id: 'quotient' };

function invalide(code: string, message: string, details: ErrorDetail[]): QuotientError {
  return new QuotientError('invalid', code, message, { details });
}

/**
 * The versions of the tariff policy: deposited by an administrator (validated, kept as YAML),
 * compared, previewed, activated at an effective date. The request service asks `enVigueur(date)`
 * synchronously: the versions are held in memory, reloaded at each change made here and by
 * `surveiller` (for changes made by another process, and so that a scheduled version is marked in
 * force on its day). Every deposit, activation and abandonment is one journal entry.
 */
export class PolitiquesService {
  private versions: VersionPolitique[] = [];
  private readonly initiale: VersionPolitique;

  private constructor(private readonly deps: PolitiquesDeps) {
    const { politique, contenu, fichier } = deps.initiale;
    this.initiale = {
      id: ID_CONFIGURATION,
      libelle: `Fichier de configuration (${fichier.split('/').pop() ?? fichier})`,
      contenu,
      empreinte: empreinteDe(contenu),
      statut: 'active',
      effetLe: null,
      deposeeLe: null,
      deposeePar: null,
      activeeLe: null,
      activeePar: null,
      origine: 'configuration',
      politique,
      erreur: null,
    };
  }

  /** Loads the versions of the table; the service answers `enVigueur` from then on. */
  static async ouvrir(deps: PolitiquesDeps): Promise<PolitiquesService> {
    const service = new PolitiquesService(deps);
    await service.rafraichir();
    return service;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  aujourdhui(): string {
    return parisDate(this.now());
  }

  /** The version that applies to a request of this day (AAAA-MM-JJ): the latest effective date on or before it. */
  versionEnVigueur(date: string): VersionPolitique {
    let best: VersionPolitique | undefined;
    for (const v of this.versions) {
      if (!APPLICABLES.includes(v.statut) || v.effetLe === null || v.effetLe > date || v.politique === null) continue;
      if (!best || (best.effetLe ?? '') < v.effetLe || (best.effetLe === v.effetLe && (best.activeeLe ?? '') < (v.activeeLe ?? ''))) best = v;
    }
    return best ?? this.initiale;
  }

  /** What the QF's pricing (`Quotients`) calls for each calculation; never throws, never waits. */
  enVigueur(date: string = this.aujourdhui()): PolitiqueTarifaire {
    return this.versionEnVigueur(date).politique ?? this.deps.initiale.politique;
  }

  /**
   * Reloads the table and marks in force the scheduled versions whose day has come (the version
   * they follow becomes `remplacee`), each such change journaled once whatever the processes;
   * `promouvoir: false` only reloads (web-only instances: the marking is the leader's job).
   */
  async rafraichir(options: { readonly promouvoir?: boolean } = {}): Promise<void> {
    const today = this.aujourdhui();
    const dues =
      options.promouvoir === false
        ? []
        : await this.deps.db
            .selectFrom('politique_versions')
            .select(['id', 'effet_le'])
            .where('statut', '=', 'programmee')
            .where('effet_le', '<=', today)
            .orderBy('effet_le')
            .execute();
    for (const due of dues) {
      await this.deps.journal.inTransaction(async (trx) => {
        const promoted = await trx
          .updateTable('politique_versions')
          .set({ statut: 'active' })
          .where('id', '=', due.id)
          .where('statut', '=', 'programmee')
          .executeTakeFirst();
        if (Number(promoted.numUpdatedRows) === 0) return;
        const replaced = await trx
          .updateTable('politique_versions')
          .set({ statut: 'remplacee' })
          .where('statut', '=', 'active')
          .where('id', '!=', due.id)
          .returning('id')
          .execute();
        await this.deps.journal.append(
          {
            actor: systeme,
            action: 'politique.en_vigueur',
            target: { type: 'politique_version', id: due.id },
            outcome: 'succes',
            details: { effet_le: due.effet_le, remplace: replaced[0]?.id ?? ID_CONFIGURATION },
          },
          trx,
        );
      });
    }
    const rows = await this.deps.db.selectFrom('politique_versions').selectAll().execute();
    const previous = new Map(this.versions.map((v) => [v.id, v]));
    this.versions = rows.map((row) => this.versionDe(row, previous.get(row.id)));
  }

  private versionDe(row: Selectable<PolitiqueVersionTable>, previous: VersionPolitique | undefined): VersionPolitique {
    let politique: PolitiqueTarifaire | null = previous && previous.empreinte === row.empreinte ? previous.politique : null;
    let erreur: string | null = previous && previous.empreinte === row.empreinte ? previous.erreur : null;
    if (!politique && !erreur) {
      try {
        politique = parsePolitiqueYaml(row.contenu, row.libelle);
      } catch (error) {
        if (!isQuotientError(error)) throw error;
        erreur = `${error.message} ${error.details.map((d) => `${d.path} : ${d.message}`).join(' ; ')}`;
      }
    }
    return {
      id: row.id,
      libelle: row.libelle,
      contenu: row.contenu,
      empreinte: row.empreinte,
      statut: row.statut,
      effetLe: row.effet_le,
      deposeeLe: row.deposee_le,
      deposeePar: row.deposee_par,
      activeeLe: row.activee_le,
      activeePar: row.activee_par,
      origine: 'depot',
      politique,
      erreur,
    };
  }

  /** The configuration file's version, with its status of today. */
  private configuration(): VersionPolitique {
    return { ...this.initiale, statut: this.versionEnVigueur(this.aujourdhui()).id === ID_CONFIGURATION ? 'active' : 'remplacee' };
  }

  /** Every version, the latest deposited first, the configuration file's last. */
  async lister(): Promise<VersionPolitique[]> {
    await this.rafraichir();
    const deposees = [...this.versions].sort((a, b) => (b.deposeeLe ?? '').localeCompare(a.deposeeLe ?? ''));
    return [...deposees, this.configuration()];
  }

  async version(id: string): Promise<VersionPolitique> {
    if (id === ID_CONFIGURATION) return this.configuration();
    await this.rafraichir();
    const v = this.versions.find((x) => x.id === id);
    if (!v) throw versionIntrouvable();
    return v;
  }

  /** Validates and keeps a new version as a draft. Invalid: `QuotientError` listing each problem with its path and line. */
  async deposer(input: { libelle: string; contenu: string }, par: Acteur, correlationId?: string): Promise<VersionPolitique> {
    const contenu = input.contenu.replace(/\r\n?/g, '\n');
    const libelleSaisi = input.libelle.trim();
    if (contenu.trim() === '') {
      throw invalide('politique_vide', 'Collez le contenu du fichier de la politique tarifaire.', [
        { path: 'contenu', message: 'Le contenu de la politique est vide : collez le texte du fichier YAML.' },
      ]);
    }
    if (Buffer.byteLength(contenu) > MAX_OCTETS) {
      throw invalide('politique_trop_grande', 'Le texte collé est trop long pour une politique tarifaire.', [
        { path: 'contenu', message: 'Le texte dépasse 1 Mo : vérifiez que vous avez collé le bon fichier.' },
      ]);
    }
    if (libelleSaisi.length > 120)
      throw invalide('libelle_invalide', 'Le nom de la version est trop long.', [
        { path: 'libelle', message: 'Le nom de la version ne doit pas dépasser 120 caractères.' },
      ]);
    let politique: PolitiqueTarifaire;
    try {
      politique = exigerSourceOfferte(parsePolitiqueYaml(contenu, 'version déposée'), 'version déposée');
    } catch (error) {
      if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
      await this.deps.journal.append({
        actor: par,
        action: 'politique.deposee',
        outcome: 'echec',
        ...(correlationId ? { correlationId } : {}),
        details: { code: error.code, problemes: error.details.length },
      });
      const message =
        error.code === 'politique_yaml_invalide'
          ? 'Le texte collé n’est pas un YAML valide : vérifiez la ligne indiquée.'
          : error.code === CODE_POLITIQUE_NUMERO_FISCAL
            ? `${error.message} Rien n’a été enregistré, et le texte n’est pas réaffiché : corrigez le fichier dans votre éditeur, puis collez-le de nouveau.`
            : error.code === CODE_SOURCE_CAF_NON_OFFERTE
              ? `${MESSAGE_SOURCE_CAF_NON_OFFERTE} Rien n’a été enregistré.`
              : error.message;
      throw new QuotientError('invalid', error.code, message, { details: localiserErreurs(contenu, error.details), cause: error });
    }
    const empreinte = empreinteDe(contenu);
    await this.rafraichir();
    const identique = this.versions.find((v) => v.empreinte === empreinte && v.statut !== 'abandonnee' && v.statut !== 'remplacee');
    if (identique) {
      throw new QuotientError(
        'conflict',
        'politique_identique',
        `Cette version est identique à la version « ${identique.libelle} » (${LIBELLES_STATUTS[identique.statut].toLowerCase()}).`,
        {
          details: [{ path: 'contenu', message: 'Le texte est identique à une version déjà déposée : rien n’a été enregistré.' }],
        },
      );
    }
    const d = politique.deliberation;
    const libelle =
      libelleSaisi ||
      [
        'Délibération',
        d.numero ? `n° ${d.numero}` : null,
        d.date ? `du ${formatDateFrancaise(d.date)}` : null,
        d.numero || d.date ? null : `(tarifs à partir du ${formatDateFrancaise(politique.validite.du)})`,
      ]
        .filter(Boolean)
        .join(' ');
    const id = randomUUID();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('politique_versions')
        .values({
          id,
          libelle,
          contenu,
          empreinte,
          statut: 'brouillon',
          effet_le: null,
          deposee_le: new Date(this.now()).toISOString(),
          deposee_par: par.id,
          activee_le: null,
          activee_par: null,
        })
        .execute();
      await this.deps.journal.append(
        {
          actor: par,
          action: 'politique.deposee',
          target: { type: 'politique_version', id },
          outcome: 'succes',
          ...(correlationId ? { correlationId } : {}),
          details: { empreinte: empreinte.slice(0, 16), activites: politique.activites.length },
        },
        trx,
      );
    });
    return this.version(id);
  }

  /**
   * Activates a draft from a day (today or later, within the validity the délibération gives it):
   * in force at once if that day is today, else scheduled. The version in force becomes `remplacee`
   * when its successor takes over.
   */
  /**
   * Whether a version can be activated at the date typed, without activating it: what the
   * confirmation step shows (the date read, whether it applies now or is scheduled, what it replaces).
   */
  async verifierActivation(id: string, dateSaisie: string): Promise<{ version: VersionPolitique; effet: string; statut: StatutVersion }> {
    const v = await this.version(id);
    if (v.origine === 'configuration')
      throw new QuotientError(
        'conflict',
        'politique_deja_active',
        'La version du fichier de configuration s’applique déjà tant qu’aucune autre n’est en vigueur.',
      );
    if (v.statut !== 'brouillon')
      throw new QuotientError(
        'conflict',
        'politique_non_activable',
        `Cette version ne peut plus être activée : elle est « ${LIBELLES_STATUTS[v.statut].toLowerCase()} ».`,
      );
    const politique = v.politique;
    if (!politique)
      throw new QuotientError(
        'conflict',
        'politique_illisible',
        'Cette version ne respecte plus les règles de la politique tarifaire : déposez-la à nouveau après correction.',
      );
    const effet = parseDateSaisie(dateSaisie);
    const today = this.aujourdhui();
    const probleme = (message: string) => invalide('date_effet_invalide', 'Vérifiez la date d’effet.', [{ path: 'effet', message }]);
    if (!effet) throw probleme('Indiquez une date réelle, par exemple 01/09/2026.');
    if (effet < today) throw probleme(`La date d’effet ne peut pas être passée : au plus tôt aujourd’hui, ${formatDateFrancaise(today)}.`);
    if (effet < politique.validite.du)
      throw probleme(`La délibération fixe le début de validité au ${formatDateFrancaise(politique.validite.du)} : la date d’effet ne peut pas le précéder.`);
    if (politique.validite.au !== undefined && effet > politique.validite.au)
      throw probleme(`La délibération fixe la fin de validité au ${formatDateFrancaise(politique.validite.au)} : la date d’effet ne peut pas la dépasser.`);
    const suivante = this.versions.find((x) => x.statut === 'programmee' && x.effetLe !== null && x.effetLe >= effet);
    if (suivante) {
      throw new QuotientError('conflict', 'politique_deja_programmee', 'Une autre version est déjà programmée à cette date ou après.', {
        details: [
          {
            path: 'effet',
            message: `La version « ${suivante.libelle} » est programmée pour le ${formatDateFrancaise(suivante.effetLe ?? effet)} : abandonnez-la d’abord, ou choisissez une date postérieure.`,
          },
        ],
      });
    }
    return { version: v, effet, statut: effet <= today ? 'active' : 'programmee' };
  }

  async activer(id: string, dateSaisie: string, par: Acteur, correlationId?: string): Promise<VersionPolitique> {
    const { effet, statut } = await this.verifierActivation(id, dateSaisie);
    await this.deps.journal.inTransaction(async (trx) => {
      const done = await trx
        .updateTable('politique_versions')
        .set({ statut, effet_le: effet, activee_le: new Date(this.now()).toISOString(), activee_par: par.id })
        .where('id', '=', id)
        .where('statut', '=', 'brouillon')
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0)
        throw new QuotientError('conflict', 'politique_non_activable', 'Cette version vient d’être modifiée par quelqu’un d’autre : rechargez la page.');
      const replaced =
        statut === 'active'
          ? await trx
              .updateTable('politique_versions')
              .set({ statut: 'remplacee' })
              .where('statut', '=', 'active')
              .where('id', '!=', id)
              .returning('id')
              .execute()
          : [];
      await this.deps.journal.append(
        {
          actor: par,
          action: 'politique.activee',
          target: { type: 'politique_version', id },
          outcome: 'succes',
          ...(correlationId ? { correlationId } : {}),
          details: { effet_le: effet, statut, remplace: statut === 'active' ? (replaced[0]?.id ?? ID_CONFIGURATION) : null },
        },
        trx,
      );
    });
    await this.rafraichir();
    return this.version(id);
  }

  /** A draft or a scheduled version is abandoned (kept, never applied). */
  async abandonner(id: string, par: Acteur, correlationId?: string): Promise<VersionPolitique> {
    const v = await this.version(id);
    if (v.statut !== 'brouillon' && v.statut !== 'programmee')
      throw new QuotientError(
        'conflict',
        'politique_non_abandonnable',
        `Seule une version déposée ou programmée peut être abandonnée ; celle-ci est « ${LIBELLES_STATUTS[v.statut].toLowerCase()} ».`,
      );
    await this.deps.journal.inTransaction(async (trx) => {
      const done = await trx
        .updateTable('politique_versions')
        .set({ statut: 'abandonnee' })
        .where('id', '=', id)
        .where('statut', 'in', ['brouillon', 'programmee'])
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0)
        throw new QuotientError('conflict', 'politique_non_abandonnable', 'Cette version vient d’être modifiée par quelqu’un d’autre : rechargez la page.');
      await this.deps.journal.append(
        {
          actor: par,
          action: 'politique.abandonnee',
          target: { type: 'politique_version', id },
          outcome: 'succes',
          ...(correlationId ? { correlationId } : {}),
          details: { statut_precedent: v.statut },
        },
        trx,
      );
    });
    await this.rafraichir();
    return this.version(id);
  }

  /** Reloads every `intervalMs` (changes made by another process, scheduled versions reaching their day); returns the stop. */
  surveiller(intervalMs: number, onError: (error: unknown) => void, options: { readonly promouvoir?: boolean } = {}): () => void {
    const timer = setInterval(() => {
      this.rafraichir(options).catch(onError);
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
