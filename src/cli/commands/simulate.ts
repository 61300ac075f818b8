import { resolve } from 'node:path';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { centsToEuros, formatEuros } from '../../domain/money.ts';
import { LIBELLES_UNITES, type PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { baseFromSimulation, champsIgnores, computeQuotientFamilial, type QuotientFamilial, type SimulationInput } from '../../domain/quotient-familial.ts';
import { priceActivites, type PrixActivite } from '../../domain/tarification.ts';
import { loadPolitiqueFile } from '../../modules/tarifs/politique-loader.ts';
import { EXIT, parseCommandArgs, type CliCommand } from '../io.ts';

const USAGE = `quotient simulate --policy FICHIER (--rfr N --parts N | --sans-quotient | --ressource NATURE=MONTANT… --persons N) [options]

Calcule le quotient familial et le prix de chaque activité pour un cas, sans réseau ni base de données.
Une option que la formule de la politique n’utilise pas est refusée, jamais ignorée.

  --policy FICHIER   politique tarifaire (YAML), par exemple examples/boulogne-billancourt.yaml
  --rfr N            revenu fiscal de référence, en euros
  --parts N          nombre de parts (1 ; 2,5 ; …) si la politique divise par les parts
  --persons N        nombre de personnes du foyer si elle divise par les personnes
  --adults N, --children N
                     composition du foyer si elle applique des coefficients
  --ressource NATURE=MONTANT
                     une ressource mensuelle déclarée par la famille (formule « ressources-personnes »),
                     par exemple --ressource salaire=2100,50 ; à répéter pour chaque ressource
  --sans-quotient    famille sans quotient connu : le tarif prévu dans ce cas (à défaut, le plus élevé)
  --rank N           rang de l’enfant (1 par défaut) pour les réductions par rang
  --inscription-tardive
                     inscription après la date limite (règles « inscriptionTardive »)
  --non-resident     famille qui n’habite pas la commune
  --json             un objet JSON : {"quotientFamilial": …, "activites": [{"id", "libelle", "unite", "tranche", "prix"}]}
                     (quotientFamilial vaut null avec --sans-quotient)`;

/** Names of the simulation fields as the person typed them. */
const FLAGS: Record<string, string> = {
  rfr: '--rfr',
  nbParts: '--parts',
  nbPersonnes: '--persons',
  adultes: '--adults',
  enfants: '--children',
  ressources: '--ressource',
  composition: '--adults et --children',
};

/** `salaire=2100,50` → a declared monthly resource; anything else is refused, never guessed. */
function ressource(value: string): { nature: string; euros: number } {
  const m = /^([^=]+)=(.+)$/.exec(value);
  const nature = m?.[1]?.trim();
  if (!m || !nature) throw usageError(`Utilisation incorrecte : --ressource attend NATURE=MONTANT, par exemple « salaire=2100,50 » (reçu « ${value} »).`);
  return { nature, euros: number('--ressource', m[2]) as number };
}

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
        error.code === 'politique_tarifaire_invalide' && !error.message.startsWith('Le fichier')
          ? `La politique tarifaire « ${path} » est invalide : corrigez les champs indiqués.`
          : error.message;
      throw new QuotientError('invalid', error.code, message, { details: error.details });
    }
    throw error;
  }
}

function jsonResult(quotient: QuotientFamilial | null, prix: readonly PrixActivite[]): string {
  return JSON.stringify(
    {
      quotientFamilial: quotient ? centsToEuros(quotient.cents) : null,
      activites: prix.map((p) => ({ id: p.id, libelle: p.libelle, unite: p.unite, tranche: p.tranche, prix: centsToEuros(p.cents) })),
    },
    null,
    2,
  );
}

function textResult(politique: PolitiqueTarifaire, quotient: QuotientFamilial | null, prix: readonly PrixActivite[], resident: boolean): string {
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
    ...(quotient
      ? [`Quotient familial : ${formatEuros(quotient.cents)} ${quotient.periode === 'mensuelle' ? 'par mois' : 'par an'}`, quotient.explication]
      : ['Quotient familial : aucun (famille sans quotient connu).', 'Le tarif prévu sans quotient s’applique, à défaut le plus élevé de chaque grille.']),
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
        ressource: { type: 'string', multiple: true },
        'sans-quotient': { type: 'boolean', default: false },
        'inscription-tardive': { type: 'boolean', default: false },
        'non-resident': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.policy === undefined) throw usageError('Utilisation incorrecte : --policy est obligatoire. Voir « quotient simulate --help ».');
    const sansQuotient = values['sans-quotient'];
    if (sansQuotient) {
      // Without a QF nothing is divided: any income or household option would be silently ignored.
      const donnees = (['rfr', 'parts', 'persons', 'adults', 'children', 'ressource'] as const).filter((k) => values[k] !== undefined).map((k) => `--${k}`);
      if (donnees.length > 0)
        throw usageError(
          `Utilisation incorrecte : --sans-quotient simule une famille sans quotient connu ; ${donnees.join(', ')} n’y ${donnees.length > 1 ? 'servent' : 'sert'} à rien : retirez-${donnees.length > 1 ? 'les' : 'la'}.`,
        );
    }

    const input: SimulationInput = {
      rfr: number('--rfr', values.rfr),
      ressources: values.ressource?.map(ressource),
      nbParts: number('--parts', values.parts),
      nbPersonnes: number('--persons', values.persons),
      adultes: number('--adults', values.adults),
      enfants: number('--children', values.children),
    };
    const rangEnfant = number('--rank', values.rank);
    if (rangEnfant !== undefined && (!Number.isInteger(rangEnfant) || rangEnfant < 1)) {
      throw usageError('Utilisation incorrecte : --rank attend un rang d’enfant entier, à partir de 1.');
    }

    const politique = await loadPolicy(resolve(io.cwd, values.policy));
    let quotient: QuotientFamilial | null = null;
    if (!sansQuotient) {
      const ignores = champsIgnores(politique.quotient, input);
      if (ignores.length > 0)
        throw usageError(
          `Utilisation incorrecte : ${ignores.map((c) => FLAGS[c.champ] ?? c.champ).join(', ')} ne ${ignores.length > 1 ? 'servent' : 'sert'} pas avec cette politique.`,
          ignores.map((c) => ({ path: FLAGS[c.champ] ?? c.champ, message: c.raison })),
        );
      if (input.rfr === undefined && input.ressources === undefined)
        throw usageError(
          politique.quotient.formule === 'ressources-personnes'
            ? 'Utilisation incorrecte : indiquez les ressources mensuelles déclarées (--ressource NATURE=MONTANT), ou --sans-quotient.'
            : 'Utilisation incorrecte : --rfr est obligatoire (ou --sans-quotient pour une famille sans quotient connu). Voir « quotient simulate --help ».',
        );
      try {
        quotient = computeQuotientFamilial(politique.quotient, baseFromSimulation(input));
      } catch (error) {
        throw error instanceof QuotientError ? withFlagPaths(error) : error;
      }
    }
    const resident = !values['non-resident'];
    const prix = priceActivites(politique, { quotient, resident, rangEnfant, inscriptionTardive: values['inscription-tardive'] });
    io.out(values.json ? jsonResult(quotient, prix) : textResult(politique, quotient, prix, resident));
    return EXIT.ok;
  },
};
