import { QuotientError } from '../../domain/errors.ts';

/**
 * The silo's failures. Their messages may reach a person through the HTTP layer: they say what is
 * wrong and what the operator can do, never a key, a plaintext or a ciphertext.
 */

/** Authentication failed: the record was altered, truncated or moved to another (kind, id). */
export class CoffreIllisible extends QuotientError {
  constructor(
    readonly recordKind: string,
    readonly recordId: string,
    cause?: unknown,
  ) {
    super(
      'unavailable',
      'coffre_illisible',
      'Des données chiffrées du coffre sont illisibles : elles ont été altérées ou déplacées. L’incident doit être signalé à l’exploitant.',
      {
        cause,
      },
    );
  }
}

/** A record names a master key that the key file does not hold (retired too early, wrong file). */
export class CleMaitreAbsente extends QuotientError {
  constructor(readonly keyId: string) {
    super(
      'unavailable',
      'coffre_cle_absente',
      `La clé maîtresse « ${keyId} » est absente du fichier de clés : vérifiez que QUOTIENT_MASTER_KEY_FILE désigne le bon fichier, sur chaque serveur.`,
    );
  }
}

/** The key file holds a key of that id, but not the one that wrapped the data (wrong file, edited key). */
export class CleMaitreIncorrecte extends QuotientError {
  constructor(readonly keyId: string) {
    super(
      'unavailable',
      'coffre_cle_incorrecte',
      `La clé maîtresse « ${keyId} » du fichier de clés n’est pas celle qui a chiffré les données : vérifiez que QUOTIENT_MASTER_KEY_FILE désigne le bon fichier.`,
    );
  }
}
