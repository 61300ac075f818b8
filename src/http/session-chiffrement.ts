import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AppConfig } from '../infra/config/config.ts';
import type { FichierCle } from '../infra/secrets/cle-fichier.ts';

/**
 * Session data at rest (ASVS 3.x, 6.x): a session holds FranceConnect's access token, the ID tokens
 * of both providers and the pending sign-in's verifier, so its row is encrypted with AES-256-GCM.
 * The key of a row is derived (HKDF-SHA256) from the sessions' key *and the session id*, which only
 * the browser's cookie holds (the table keeps its digest): a copy of the table and of the key file
 * together still opens no session. The digest is the associated data, so a row moved to another
 * id does not decrypt.
 */
const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where the sessions' key is: named by QUOTIENT_SESSION_KEY_FILE, or created under the data folder in demo. */
export function fichierCleSessions(config: Pick<AppConfig, 'mode' | 'dataDir' | 'sessionKeyFile'>): FichierCle {
  return {
    fichier: config.sessionKeyFile ?? join(config.dataDir, 'sessions.key'),
    creer: config.mode === 'demo' && config.sessionKeyFile === undefined,
    usage: 'des sessions',
    variable: 'QUOTIENT_SESSION_KEY_FILE',
  };
}

export class ChiffrementSessions {
  constructor(private readonly cle: Buffer) {}

  private cleDe(sessionId: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.cle, Buffer.alloc(0), `quotient-session|1|${sessionId}`, 32));
  }

  chiffrer(sessionId: string, idHash: string, clair: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.cleDe(sessionId), iv);
    cipher.setAAD(Buffer.from(idHash));
    const corps = Buffer.concat([cipher.update(clair, 'utf8'), cipher.final()]);
    return VERSION + Buffer.concat([iv, cipher.getAuthTag(), corps]).toString('base64url');
  }

  /** The plain text; null when the row is not ours to read (another key, another id, altered, or written in clear before). */
  dechiffrer(sessionId: string, idHash: string, texte: string): string | null {
    if (!texte.startsWith(VERSION)) return null;
    const octets = Buffer.from(texte.slice(VERSION.length), 'base64url');
    if (octets.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.cleDe(sessionId), octets.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(idHash));
      decipher.setAuthTag(octets.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(octets.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
