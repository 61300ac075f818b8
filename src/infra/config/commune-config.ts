import { z } from 'zod';
import { DUREE_RENOUVELLEMENT_MAX_ANS } from '../../domain/consentement-renouvellement.ts';
import { habilitationSchema } from '../../domain/habilitation.ts';
import { securiteSchema } from './securite-config.ts';

const text = (max = 500) => z.string().trim().min(1, 'ne doit pas être vide').max(max);
const email = z.email('adresse électronique invalide');
const httpsUrl = z.url({ protocol: /^https?$/, error: 'adresse web invalide (http:// ou https://)' });
const telephone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 .()-]{6,20}$/, 'numéro de téléphone invalide');

const postalAddress = z.strictObject({
  lignes: z.array(text(200)).min(1).max(5),
  codePostal: z.string().regex(/^[0-9]{5}$/, 'code postal à 5 chiffres'),
  ville: text(100),
});

const FINALITES = [
  'Calculer le quotient familial de votre foyer à partir des informations de votre avis d’imposition.',
  'En déduire le prix des activités municipales (restauration scolaire, accueil périscolaire, centres de loisirs, conservatoire), selon la délibération tarifaire du conseil municipal.',
  'Délivrer une attestation de quotient familial que vous pouvez présenter, et en permettre la vérification.',
];
const BASE_LEGALE =
  'Mission d’intérêt public dont est investie la commune (article 6-1-e du RGPD), pour la tarification de ses services publics ; les informations fiscales ne sont obtenues de la DGFiP qu’avec votre accord exprès, dans le cadre de l’habilitation accordée à la commune.';
const DESTINATAIRES = [
  'Les agents habilités des services municipaux compétents (accueil, instruction des dossiers), chacun selon son rôle.',
  'Le service de facturation de la commune, qui reçoit le quotient et la tranche, jamais les informations fiscales.',
  'L’hébergeur du service, sous-traitant de la commune, qui ne peut pas lire les données chiffrées.',
];

/**
 * The commune configuration file (`QUOTIENT_CONFIG`, YAML): who the commune is and whom a family
 * can reach, and which tariff policy it applies. Unknown keys are refused so that a typo is not
 * silently ignored.
 */
export const communeConfigSchema = z.strictObject({
  commune: z.strictObject({
    nom: text(120),
    codeInsee: z.string().regex(/^(?:[0-9]{5}|2[AB][0-9]{3})$/, 'code INSEE à 5 caractères (ex. 92012)'),
    siteWeb: httpsUrl.optional(),
    adresse: postalAddress,
  }),
  contact: z.strictObject({
    service: text(200),
    email,
    telephone: telephone.optional(),
    horaires: text(300).optional(),
    adresse: postalAddress.optional(),
  }),
  dpo: z.strictObject({
    nom: text(200).optional(),
    email,
    adresse: postalAddress.optional(),
  }),
  mentionsLegales: z.strictObject({
    editeur: text(300),
    directeurPublication: text(200),
    hebergeur: z.strictObject({ nom: text(200), adresse: text(400), telephone: telephone.optional() }),
  }),
  accessibilite: z
    .strictObject({
      etat: z.enum(['non conforme', 'partiellement conforme', 'totalement conforme']),
      dateAudit: z.iso.date('date au format AAAA-MM-JJ').optional(),
      referentiel: text(100).default('RGAA 4.1'),
    })
    .default({ etat: 'non conforme', referentiel: 'RGAA 4.1' }),
  /** The DataPass habilitation of the téléservice: what may be asked of the DGFiP, and why. */
  habilitation: habilitationSchema,
  /** How long what Quotient holds is kept (CGU, RGPD art. 5): then `quotient purge` removes it. */
  conservation: z
    .strictObject({
      /** Fiscal data: the QF's validity plus a window to contest it. */
      donneesFiscalesMoisApresValidite: z.number().int().min(0).max(24).default(3),
      /** Requests and their results, counted from the end of the QF's validity (or of the request). */
      demandesMois: z.number().int().min(1).max(120).default(24),
      /** The audit journal. */
      journalMois: z.number().int().min(6).max(36).default(12),
    })
    .default({ donneesFiscalesMoisApresValidite: 3, demandesMois: 24, journalMois: 12 }),
  /**
   * The avis a family may upload when the DGFiP could not give it (issue 15): the largest file
   * accepted, and the longest it stays in the silo when no decision destroyed it first.
   */
  avisDepose: z
    .strictObject({
      tailleMaxKo: z
        .number({ error: 'nombre entier de kilo-octets attendu, de 100 à 10240' })
        .int('nombre entier de kilo-octets attendu, de 100 à 10240')
        .min(100, 'au moins 100 Ko : une photo lisible d’un avis pèse davantage')
        .max(10_240, 'au plus 10240 Ko (10 Mo)')
        .default(5120),
      conservationJoursMax: z
        .number({ error: 'nombre entier de jours attendu, de 1 à 90' })
        .int('nombre entier de jours attendu, de 1 à 90')
        .min(1, 'au moins 1 jour')
        .max(90, 'au plus 90 jours : l’avis montre le numéro fiscal, il ne doit pas rester plus longtemps')
        .default(30),
    })
    .default({ tailleMaxKo: 5120, conservationJoursMax: 30 }),
  /**
   * What the privacy page (/confidentialite) says beyond what the rest of this file tells
   * (RGPD art. 13): the purposes, the legal basis, the recipients. Defaults fit a commune that
   * prices its activities by a délibération; a commune adapts them to its own register.
   */
  confidentialite: z
    .strictObject({
      finalites: z.array(text(500)).min(1, 'au moins une finalité').max(10).default(FINALITES),
      baseLegale: text(1000).default(BASE_LEGALE),
      destinataires: z.array(text(300)).min(1, 'au moins un destinataire').max(10).default(DESTINATAIRES),
    })
    .default({ finalites: FINALITES, baseLegale: BASE_LEGALE, destinataires: DESTINATAIRES }),
  /**
   * The standing consent for renewal (docs/renouvellement.md): offered to families only when this
   * section is present and the habilitation allows the état civil route. `dureeMaxAns`: the longest
   * a family's standing consent lasts before it must be given again.
   */
  renouvellement: z
    .strictObject({
      dureeMaxAns: z
        .number({ error: `nombre entier d’années attendu, de 1 à ${DUREE_RENOUVELLEMENT_MAX_ANS}` })
        .int(`nombre entier d’années attendu, de 1 à ${DUREE_RENOUVELLEMENT_MAX_ANS}`)
        .min(1, 'au moins 1 an')
        .max(DUREE_RENOUVELLEMENT_MAX_ANS, `au plus ${DUREE_RENOUVELLEMENT_MAX_ANS} ans : un accord plus long devrait être redonné par la famille`)
        .default(3),
    })
    .optional(),
  /** The RSSI and the alert channels (e-mail, webhook, syslog): `quotient alertes tester` tries them. */
  securite: securiteSchema.optional(),
  /**
   * Campaigns (issue 14): the yearly renewal of the standing consents, started by the workers'
   * leader on `jour` (MM-JJ, Paris) for the QFs expiring before `expirantAvant`, on behalf of the
   * administrator `responsable` (the robot always acts for a person).
   */
  campagnes: z
    .strictObject({
      renouvellementAnnuel: z
        .strictObject({
          jour: z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/, 'jour au format MM-JJ, par exemple 08-25'),
          expirantAvant: z
            .string()
            .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/, 'jour au format MM-JJ, par exemple 09-01')
            .optional(),
          responsable: z.email('adresse électronique de l’administrateur responsable attendue'),
        })
        .optional(),
    })
    .optional(),
  /** Path of the tariff policy file (YAML); a relative path is taken from this file's folder. */
  politiqueTarifaire: z
    .string({
      error: (issue) => (issue.input === undefined ? 'champ obligatoire : le chemin du fichier de la politique tarifaire (YAML)' : 'chemin de fichier attendu'),
    })
    .trim()
    .min(1, 'chemin du fichier de la politique tarifaire attendu')
    .max(1000),
});

export type CommuneConfig = z.infer<typeof communeConfigSchema>;
