import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { LIMITES_NUMERO_FISCAL_DEFAUT, type Seuils } from '../../infra/config/securite-config.ts';
import type { Acteur, AuditEntryInput } from '../audit/index.ts';

/**
 * Anti-fishing (issue 12, hole 3): each numéro fiscal submitted on the portal or at the counter
 * counts against its family account, its family, the client's address and the counter agent, per
 * clock hour and per day. Above a limit the submission is refused before any DGFiP call, with the
 * time to try again, and journaled; every counted try is journaled too, so a burst shows in the
 * journal (the detection rule « fishing » reads these two actions).
 */
export const ACTION_ESSAI = 'demande.numero_fiscal.essai';
export const ACTION_LIMITE = 'demande.numero_fiscal.limite';

export type Portee = 'compte' | 'famille' | 'adresse' | 'agent';
export type Fenetre = 'heure' | 'jour';
const DUREES: Record<Fenetre, number> = { heure: 3_600_000, jour: 86_400_000 };
const CONFIG: Record<Portee, 'parCompte' | 'parFamille' | 'parAdresse' | 'parAgent'> = {
  compte: 'parCompte',
  famille: 'parFamille',
  adresse: 'parAdresse',
  agent: 'parAgent',
};

export type LimitesConfig = Partial<Record<'parCompte' | 'parFamille' | 'parAdresse' | 'parAgent', Seuils>>;

/** Who a try is counted against; a key left out is not counted (no account at the counter, no agent on the portal). */
export interface Essai {
  readonly famille: string;
  readonly compte?: string;
  readonly adresse?: string;
  readonly agent?: string;
  readonly canal: 'en_ligne' | 'guichet';
  /** How many numéros fiscaux this submission holds. */
  readonly n: number;
  readonly acteur: Acteur;
  readonly correlationId?: string;
}

/** Above a limit: typed (`rate_limited`, 429), with the moment it lifts. The message never says which key (the address, the account) was hit. */
export class LimiteNumeroFiscal extends QuotientError {
  readonly reessayerA: Date;
  constructor(reessayerA: Date) {
    super(
      'rate_limited',
      'numero_fiscal_limite',
      `Trop de numéros fiscaux ont été saisis en peu de temps : pour protéger les données de chacun, la saisie est suspendue. Vous pourrez réessayer ${quand(reessayerA)}. Si vous pensez qu’il s’agit d’une erreur, contactez la mairie.`,
    );
    this.reessayerA = reessayerA;
  }
}

// Built once: a formatter costs far more to create than to use.
const JOUR = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: 'numeric', month: 'long' });
const HEURE = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hour12: false });

function quand(at: Date): string {
  const jour = JOUR.format(at);
  const [h, m] = HEURE.format(at).split(':');
  return `le ${jour} à partir de ${Number(h)} h ${m}`;
}

class Depassement extends Error {
  constructor(
    readonly portee: Portee,
    readonly fenetre: Fenetre,
    readonly limite: number,
    readonly fin: number,
  ) {
    super('limit');
  }
}

export class LimitesNumeroFiscal {
  private readonly clock: () => number;
  constructor(
    private readonly deps: {
      db: Kysely<Schema>;
      journal: { append(entry: AuditEntryInput): Promise<unknown> };
      limites?: LimitesConfig | undefined;
      clock?: () => number;
    },
  ) {
    this.clock = deps.clock ?? Date.now;
  }

  private seuils(portee: Portee): Seuils {
    return this.deps.limites?.[CONFIG[portee]] ?? LIMITES_NUMERO_FISCAL_DEFAUT[CONFIG[portee]];
  }

  /**
   * Counts the try against every key, all or nothing: one transaction, one conditional upsert per
   * key and window (`n + k <= limit`), in a fixed order so that two instances never deadlock. On
   * PostgreSQL the upsert locks the row and re-reads it, so the try that crosses the limit is let
   * through by one instance only. Throws `LimiteNumeroFiscal` above a limit (nothing counted then).
   */
  async compter(essai: Essai): Promise<void> {
    if (essai.n <= 0) return;
    const now = this.clock();
    const cles = (
      [
        ['compte', essai.compte],
        ['famille', essai.famille],
        ['adresse', essai.adresse],
        ['agent', essai.agent],
      ] as Array<[Portee, string | undefined]>
    )
      .filter((c): c is [Portee, string] => typeof c[1] === 'string' && c[1] !== '')
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        for (const [portee, id] of cles) {
          for (const fenetre of ['heure', 'jour'] as const) {
            const limite = this.seuils(portee)[fenetre];
            const debut = Math.floor(now / DUREES[fenetre]) * DUREES[fenetre];
            const fin = debut + DUREES[fenetre];
            if (essai.n > limite) throw new Depassement(portee, fenetre, limite, fin);
            const row = await trx
              .insertInto('numero_fiscal_essais')
              .values({ cle: `${portee}:${id}`, fenetre, debut: new Date(debut).toISOString(), n: essai.n })
              .onConflict((oc) =>
                oc
                  .columns(['cle', 'fenetre', 'debut'])
                  .doUpdateSet({ n: sql<number>`numero_fiscal_essais.n + ${essai.n}` })
                  .where(sql<number>`numero_fiscal_essais.n + ${essai.n}`, '<=', limite),
              )
              .returning('n')
              .executeTakeFirst();
            if (!row) throw new Depassement(portee, fenetre, limite, fin);
          }
        }
        // Yesterday's counts are of no use: they go as new ones come.
        await trx
          .deleteFrom('numero_fiscal_essais')
          .where('debut', '<', new Date(now - 2 * DUREES.jour).toISOString())
          .execute();
      });
    } catch (error) {
      if (!(error instanceof Depassement)) throw error;
      const reessayerA = new Date(error.fin);
      await this.deps.journal.append({
        actor: essai.acteur,
        action: ACTION_LIMITE,
        outcome: 'refus',
        target: { type: 'famille', id: essai.famille },
        ...(essai.correlationId ? { correlationId: essai.correlationId } : {}),
        details: {
          canal: essai.canal,
          portee: error.portee,
          fenetre: error.fenetre,
          limite: error.limite,
          numeros: essai.n,
          reessayerA: reessayerA.toISOString(),
        },
      });
      throw new LimiteNumeroFiscal(reessayerA);
    }
    await this.deps.journal.append({
      actor: essai.acteur,
      action: ACTION_ESSAI,
      outcome: 'succes',
      target: { type: 'famille', id: essai.famille },
      ...(essai.correlationId ? { correlationId: essai.correlationId } : {}),
      details: { canal: essai.canal, numeros: essai.n },
    });
  }
}
