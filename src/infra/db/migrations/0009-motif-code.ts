import type { Migration } from '../migrations.ts';

/**
 * The reason of a request as a code beside its French sentence: programs (the instructors' queue)
 * read the code instead of matching the sentence. Existing requests get the code of the sentence
 * they hold. The sentences are copied here as they were written until now: a migration that has
 * shipped never changes, whatever the wording becomes in the code.
 */
const PHRASES: Readonly<Record<string, string>> = {
  introuvable: 'La DGFiP ne trouve pas d’avis pour ce numéro fiscal et cette année : un agent va vérifier.',
  annee_indisponible: 'L’avis de l’année demandée n’existe pas encore : un agent va vérifier.',
  situation_multiple: 'Plusieurs avis existent pour cette année (par exemple après un décès) : un agent va vérifier.',
  identite: 'Les déclarants de l’avis ne correspondent pas exactement aux parents déclarés : un agent va vérifier.',
  discordant: 'L’avis reçu ne concerne aucun des parents déclarés : il n’a pas été conservé, un agent va vérifier.',
  combinaison: 'Les avis des deux foyers ne peuvent pas être combinés automatiquement : un agent va vérifier.',
  spi_perdu: 'Le service a redémarré avant l’appel à la DGFiP : le numéro fiscal doit être saisi à nouveau.',
  echec: 'La DGFiP n’a pas pu répondre ; la demande pourra être refaite. Le service technique est prévenu.',
  consentement_retire: 'L’accord pour interroger la DGFiP a été retiré : la demande est annulée.',
  reexamen: 'Réexamen à la suite d’une contestation.',
  confirme: 'Demande vérifiée par un agent de la mairie.',
  qf_manuel: 'Quotient fixé par un agent de la mairie au vu d’un document présenté.',
};
/** The reason codes that existed when 0009 shipped (the sentences above, and the refusal): its test covers these. */
export const CODES_0009: readonly string[] = [...Object.keys(PHRASES), 'refuse'];

/** A refusal's sentence is this, then « : » and the instructor's reason. */
const REFUS = 'Demande refusée après examen par un agent de la mairie : ';

export const m0009MotifCode: Migration = {
  name: '0009-motif-code',
  async up(db) {
    await db.schema.alterTable('demandes').addColumn('motif_code', 'text').execute();
    for (const [code, phrase] of Object.entries(PHRASES)) {
      await db.updateTable('demandes').set({ motif_code: code }).where('motif', '=', phrase).execute();
    }
    // No `%` nor `_` in the prefix: LIKE reads it literally on both dialects.
    await db.updateTable('demandes').set({ motif_code: 'refuse' }).where('motif', 'like', `${REFUS}%`).execute();
  },
};
