/**
 * The OpenAPI 3.1 document of the REST API used by billing software, served at
 * /api/v1/openapi.json. It is the contract: the tests check that it is a well-formed OpenAPI 3.1
 * document and that real answers validate against the schemas it declares. Descriptions are in
 * French: they are read by the commune's software providers.
 */

export const LIMITE_MAX = 500;
export const LIMITE_DEFAUT = 100;

const probleme = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Probleme' } } },
});

export function openApiDocument(publicUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Quotient familial – API des logiciels de facturation',
      version: '1.0.0',
      description:
        'Les quotients familiaux (QF) des familles et la tranche de chaque activité, pour les logiciels de facturation de la commune. ' +
        'Aucune donnée fiscale (revenu, nombre de parts, nom des déclarants) n’est exposée. Chaque appel est enregistré dans le journal d’audit ' +
        'avec la clé utilisée et le nombre de lignes transmises. Les clés d’API sont créées et révoquées par les administrateurs de la commune.',
    },
    servers: [{ url: publicUrl }],
    security: [{ cleApi: [] }],
    paths: {
      '/api/v1/quotients': {
        get: {
          operationId: 'listerQuotients',
          summary: 'Quotients en vigueur à une date, ou enregistrés depuis un instant',
          description:
            'Sans paramètre : le quotient en vigueur aujourd’hui (heure de Paris) pour chaque famille qui en a un, le plus récent si plusieurs s’appliquent. ' +
            'Avec `modifiedSince` : tous les quotients enregistrés depuis cet instant (inclus), y compris ceux qui ne s’appliquent que plus tard, pour tenir à jour une copie ; ' +
            'ajoutez `date` pour ne garder que ceux en vigueur ce jour-là. Les résultats sont triés par date d’enregistrement, puis par identifiant. ' +
            'Pour la page suivante, suivez le lien `next` (aussi donné dans l’en-tête `Link`) jusqu’à ce qu’il vaille `null`.',
          parameters: [
            {
              name: 'modifiedSince',
              in: 'query',
              required: false,
              description:
                'Instant ISO 8601 avec son fuseau, par exemple `2026-09-01T08:00:00Z` ou `2026-09-01T10:00:00+02:00` (le « + » s’écrit `%2B` dans une adresse).',
              schema: { type: 'string', format: 'date-time' },
            },
            {
              name: 'date',
              in: 'query',
              required: false,
              description:
                'Jour (AAAA-MM-JJ) : seuls les quotients en vigueur ce jour-là, le plus récent par famille. Par défaut, aujourd’hui quand `modifiedSince` est absent.',
              schema: { type: 'string', format: 'date' },
            },
            {
              name: 'limit',
              in: 'query',
              required: false,
              description: `Nombre de quotients par page, de 1 à ${LIMITE_MAX} (${LIMITE_DEFAUT} par défaut).`,
              schema: { type: 'integer', minimum: 1, maximum: LIMITE_MAX, default: LIMITE_DEFAUT },
            },
            {
              name: 'cursor',
              in: 'query',
              required: false,
              description: 'Curseur opaque de la page suivante, repris tel quel du lien `next`.',
              schema: { type: 'string', maxLength: 400 },
            },
          ],
          responses: {
            '200': {
              description: 'Une page de quotients.',
              headers: {
                Link: { description: 'Lien vers la page suivante (`rel="next"`), absent sur la dernière page.', schema: { type: 'string' } },
                'X-RateLimit-Limit': { description: 'Nombre d’appels permis par minute pour cette clé.', schema: { type: 'integer' } },
                'X-RateLimit-Remaining': { description: 'Appels restants dans la minute en cours.', schema: { type: 'integer' } },
              },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/PageQuotients' } } },
            },
            '400': probleme('Paramètre invalide (date mal écrite, limite hors bornes, curseur modifié, paramètre inconnu) : le champ `errors` indique lequel.'),
            '401': probleme('Clé d’API absente, inconnue ou révoquée.', {
              'WWW-Authenticate': { description: '`Bearer realm="quotient"`', schema: { type: 'string' } },
            }),
            '429': probleme('Trop d’appels en une minute pour cette clé.', {
              'Retry-After': { description: 'Secondes à attendre avant de réessayer.', schema: { type: 'integer' } },
            }),
          },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          operationId: 'documentOpenApi',
          summary: 'Ce document',
          security: [],
          responses: {
            '200': { description: 'Le document OpenAPI 3.1 de l’API.', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        cleApi: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'qk_…',
          description: 'Clé d’API donnée une seule fois par un administrateur de la commune, envoyée dans l’en-tête `Authorization: Bearer qk_…`.',
        },
      },
      schemas: {
        PageQuotients: {
          type: 'object',
          additionalProperties: false,
          required: ['date', 'modifiedSince', 'quotients', 'next'],
          properties: {
            date: { type: ['string', 'null'], format: 'date', description: 'Le jour retenu pour « en vigueur », ou null.' },
            modifiedSince: { type: ['string', 'null'], format: 'date-time', description: 'L’instant retenu, en UTC, ou null.' },
            quotients: { type: 'array', items: { $ref: '#/components/schemas/Quotient' } },
            next: { type: ['string', 'null'], format: 'uri', description: 'Adresse de la page suivante, ou null sur la dernière.' },
          },
        },
        Quotient: {
          type: 'object',
          additionalProperties: false,
          required: [
            'id',
            'famille',
            'quotientCents',
            'periode',
            'valideDu',
            'valideAu',
            'origine',
            'calculeLe',
            'modifiedAt',
            'politique',
            'tranches',
            'enfants',
          ],
          properties: {
            id: { type: 'string', description: 'Identifiant stable de ce quotient.' },
            famille: { type: 'string', description: 'Référence de la famille (par exemple F-ABCD-EFGH).' },
            quotientCents: { type: 'integer', minimum: 0, description: 'Quotient familial en centimes d’euro.' },
            periode: { enum: ['mensuelle', 'annuelle'], description: 'Le quotient est exprimé par mois ou par an, selon la politique tarifaire.' },
            valideDu: { type: 'string', format: 'date', description: 'Premier jour d’application.' },
            valideAu: { type: 'string', format: 'date', description: 'Dernier jour d’application (inclus).' },
            origine: { enum: ['calcule', 'manuel'], description: '`calcule` à partir des données de la DGFiP, `manuel` s’il a été fixé par un instructeur.' },
            calculeLe: { type: 'string', format: 'date-time', description: 'Date et heure du calcul (UTC).' },
            modifiedAt: { type: 'string', format: 'date-time', description: 'Date et heure de la dernière modification (UTC), comparée à `modifiedSince`.' },
            politique: { type: 'string', description: 'Version de la politique tarifaire appliquée.' },
            tranches: { type: 'array', items: { $ref: '#/components/schemas/TrancheActivite' } },
            enfants: {
              type: 'array',
              items: { $ref: '#/components/schemas/TrancheEnfant' },
              description:
                'Une ligne par enfant et par activité dont le prix diffère de celui de la famille (rang de l’enfant) ou dont l’enfant vit en résidence alternée (facturé sur ce quotient pour les périodes passées dans ce foyer). Vide si les prix de la famille valent pour chaque enfant.',
            },
          },
        },
        TrancheEnfant: {
          type: 'object',
          additionalProperties: false,
          required: ['activite', 'libelle', 'unite', 'tranche', 'prixCents', 'tarif', 'prenoms', 'rang', 'residenceAlternee'],
          properties: {
            activite: { type: 'string', description: 'Identifiant de l’activité dans la politique tarifaire.' },
            libelle: { type: 'string' },
            unite: { type: 'string', description: 'Unité du prix (repas, heure, journée…).' },
            tranche: { type: ['string', 'null'], description: 'Code de la tranche ; null pour un taux d’effort ou un prix forfaitaire.' },
            prixCents: { type: 'integer', minimum: 0, description: 'Prix unitaire pour cet enfant, en centimes.' },
            tarif: { enum: ['grille', 'non-resident', 'sans-quotient'], description: 'D’où vient le prix avant les réductions.' },
            prenoms: { type: 'string', description: 'Prénoms de l’enfant, tels que la famille les a donnés.' },
            rang: { type: 'integer', minimum: 1, description: 'Rang de l’enfant dans le foyer, l’aîné étant le 1er.' },
            residenceAlternee: { type: 'boolean', description: 'L’enfant vit en résidence alternée.' },
          },
        },
        TrancheActivite: {
          type: 'object',
          additionalProperties: false,
          required: ['activite', 'libelle', 'unite', 'tranche', 'prixCents', 'tarif'],
          properties: {
            activite: { type: 'string', description: 'Identifiant de l’activité dans la politique tarifaire.' },
            libelle: { type: 'string' },
            unite: { type: 'string', description: 'Unité du prix (repas, heure, journée…).' },
            tranche: { type: ['string', 'null'], description: 'Code de la tranche ; null pour un taux d’effort ou un prix forfaitaire.' },
            prixCents: { type: 'integer', minimum: 0, description: 'Prix unitaire pour cette famille, en centimes.' },
            tarif: {
              enum: ['grille', 'non-resident', 'sans-quotient'],
              description: 'D’où vient le prix : la grille, le tarif des non-résidents, ou le tarif sans quotient.',
            },
          },
        },
        Probleme: {
          type: 'object',
          description: 'Erreur au format « problem+json » (RFC 9457), message en français.',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', description: 'Code stable de l’erreur, pour les programmes.' },
            requestId: { type: 'string', description: 'Référence à citer en contactant la commune.' },
            errors: {
              type: 'array',
              items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
