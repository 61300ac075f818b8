import { resolve } from 'node:path';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { centsToEuros, formatEuros } from '../../domain/money.ts';
import { LIBELLES_UNITES, type PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { baseFromSimulation, computeQuotientFamilial, type QuotientFamilial, type SimulationInput } from '../../domain/quotient-familial.ts';
import { priceActivites, type PrixActivite } from '../../domain/tarification.ts';
import { loadPolitiqueFile } from '../../modules/tarifs/politique-loader.ts';
import { EXIT, parseCommandArgs, type CliCommand } from '../io.ts';

const USAGE = `quotient simulate --policy FICHIER --rfr N --parts N [--persons N] [--adults N --children N] [--rank N] [--non-resident] [--json]

Calcule le quotient familial et le prix de chaque activité pour un cas, sans réseau ni base de données.

  --policy FICHIER   politique tarifaire (YAML), par exemple examples/boulogne-billancourt.yaml
  --rfr N            revenu fiscal de référence, en euros
  --parts N          nombre de parts (1 ; 2,5 ; …) si la politique divise par les parts
  --persons N        nombre de personnes du foyer si elle divise par les personnes
  --adults N, --children N
                     composition du foyer si elle applique des coefficients
  --rank N           rang de l’enfant (1 par défaut) pour les réductions par rang
  --non-resident     famille qui n’habite pas la commune
  --json             un objet JSON : {"quotientFamilial": …, "activites": [{"id", "libelle", "unite", "tranche", "prix"}]}`;

/** Names of the simulation fields as the person typed them. */
const FLAGS: Record<string, string> = {
  rfr: '--rfr',
  nbParts: '--parts',
  nbPersonnes: '--persons',
  adultes: '--adults',
  enfants: '--children',
};

function usageError(message: string, details: readonly ErrorDetail[] = []): QuotientError {
  return new QuotientError('invalid', 'usage_invalide', message, { details });
}

/** A number as people type it: `48000`, `48 000`, `2,5`. Anything else is refused, never guessed. */
function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const compact = value.replace(/[\s\u00a0\u202f]/g, '').replace(',', '.');
  if (!/^-?\d+(\.\d+)?$/.test(compact)) throw usageError(`Utilisation incorrecte : ${flag} attend un nombre (reçu « ${value} »).`);
  return Number(compact);
}

function withFlagPaths(error: QuotientError): QuotientError {
  const details = error.details.map((d) => ({ path: FLAGS[d.path] ?? d.path, message: d.message }));
  return new QuotientError(error.kind, error.code, error.message, { details });
}

async function loadPolicy(path: string): Promise<PolitiqueTarifaire> {
  try {
    return await loadPolitiqueFile(path);
  } catch (error) {
    if (error instanceof QuotientError) {
      // A missing file is a usage error here: the person named the wrong path.
      const message =
        error.code === 'politique_tarifaire_invalide' ? `La politique tarifaire « ${path} » est invalide : corrigez les champs indiqués.` : error.message;
      throw new QuotientError('invalid', error.code, message, { details: error.details });
    }
    throw error;
  }
}

function jsonResult(quotient: QuotientFamilial, prix: readonly PrixActivite[]): string {
  return JSON.stringify(
    {
      quotientFamilial: centsToEuros(quotient.cents),
      activites: prix.map((p) => ({ id: p.id, libelle: p.libelle, unite: p.unite, tranche: p.tranche, prix: centsToEuros(p.cents) })),
    },
    null,
    2,
  );
}

function textResult(politique: PolitiqueTarifaire, quotient: QuotientFamilial, prix: readonly PrixActivite[], resident: boolean): string {
  const d = politique.deliberation;
  const deliberation = d.numero || d.date ? `, délibération${d.numero ? ` n° ${d.numero}` : ''}${d.date ? ` du ${formatDateFrancaise(d.date)}` : ''}` : '';
  const rows = prix.map((p) => [p.libelle, LIBELLES_UNITES[p.unite], p.tranche ?? '—', formatEuros(p.cents)]);
  const header = ['Activité', 'Unité', 'Tranche', 'Prix'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `${politique.commune.nom} : politique tarifaire en vigueur à partir du ${formatDateFrancaise(politique.validite.du)}${deliberation}.`,
    '',
    `Quotient familial : ${formatEuros(quotient.cents)} ${quotient.periode === 'mensuelle' ? 'par mois' : 'par an'}`,
    quotient.explication,
    '',
    `Prix pour une famille ${resident ? 'qui habite la commune' : 'qui n’habite pas la commune'} :`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'Détail :',
    ...prix.map((p) => `- ${p.libelle} : ${p.explication}`),
  ].join('\n');
}

export const simulateCommand: CliCommand = {
  summary: 'Simule le quotient familial et les prix pour un cas, sans réseau ni base de données.',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        policy: { type: 'string' },
        rfr: { type: 'string' },
        parts: { type: 'string' },
        persons: { type: 'string' },
        adults: { type: 'string' },
        children: { type: 'string' },
        rank: { type: 'string' },
        'non-resident': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const missing = (['policy', 'rfr'] as const).filter((k) => values[k] === undefined).map((k) => `--${k}`);
    if (missing.length > 0)
      throw usageError(
        `Utilisation incorrecte : ${missing.join(' et ')} ${missing.length > 1 ? 'sont obligatoires' : 'est obligatoire'}. Voir « quotient simulate --help ».`,
      );

    const input: SimulationInput = {
      rfr: number('--rfr', values.rfr) as number,
      nbParts: number('--parts', values.parts),
      nbPersonnes: number('--persons', values.persons),
      adultes: number('--adults', values.adults),
      enfants: number('--children', values.children),
    };
    const rangEnfant = number('--rank', values.rank);
    if (rangEnfant !== undefined && (!Number.isInteger(rangEnfant) || rangEnfant < 1)) {
      throw usageError('Utilisation incorrecte : --rank attend un rang d’enfant entier, à partir de 1.');
    }

    const politique = await loadPolicy(resolve(io.cwd, values.policy as string));
    let quotient: QuotientFamilial;
    try {
      quotient = computeQuotientFamilial(politique.quotient, baseFromSimulation(input));
    } catch (error) {
      throw error instanceof QuotientError ? withFlagPaths(error) : error;
    }
    const resident = !values['non-resident'];
    const prix = priceActivites(politique, { quotient, resident, rangEnfant });
    io.out(values.json ? jsonResult(quotient, prix) : textResult(politique, quotient, prix, resident));
    return EXIT.ok;
  },
};
