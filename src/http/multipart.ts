import type { FastifyInstance } from 'fastify';
import { QuotientError } from '../domain/errors.ts';

/**
 * `multipart/form-data`, the encoding of a form that sends a file (a campaign's CSV): read into the
 * same body as an urlencoded form (each text field a string, so that the CSRF check and the forms'
 * readers work unchanged), each file as an `EnvoiFichier`. A body the parser cannot read is a typed
 * `invalid` error (a French 400 page), never a crash; a body over the limit is Fastify's 413.
 */

export interface EnvoiFichier {
  readonly nom: string;
  readonly type: string;
  readonly octets: Uint8Array;
}

export function estEnvoiFichier(value: unknown): value is EnvoiFichier {
  return typeof value === 'object' && value !== null && 'octets' in value && (value as { octets: unknown }).octets instanceof Uint8Array;
}

const MAX_PARTIES = 20;
const MAX_TEXTE = 64 * 1024;

const illisible = () =>
  new QuotientError('invalid', 'formulaire_illisible', 'Le formulaire envoyé est illisible : rechargez la page et envoyez-le de nouveau.');

function boundaryDe(contentType: string): string {
  const m = /boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw illisible();
  return b;
}

/** Parses a whole multipart body (already bounded in size by Fastify). */
export function lireMultipart(body: Buffer, contentType: string): Record<string, string | EnvoiFichier> {
  const delimiteur = Buffer.from(`--${boundaryDe(contentType)}`);
  const champs: Record<string, string | EnvoiFichier> = Object.create(null) as Record<string, string | EnvoiFichier>;
  let pos = body.indexOf(delimiteur);
  if (pos < 0) throw illisible();
  for (let parties = 0; ; parties++) {
    pos += delimiteur.length;
    // `--` after the delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return champs;
    if (parties >= MAX_PARTIES) throw illisible();
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw illisible();
    pos += 2;
    const finEntetes = body.indexOf('\r\n\r\n', pos);
    if (finEntetes < 0) throw illisible();
    const entetes = body.subarray(pos, finEntetes).toString('utf8');
    const debut = finEntetes + 4;
    const suivant = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiteur]), debut);
    if (suivant < 0) throw illisible();
    const contenu = body.subarray(debut, suivant);
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(entetes)?.[1];
    const nom = disposition ? /(?:^|;)\s*name="([^"]{1,100})"/i.exec(disposition)?.[1] : undefined;
    if (!nom || nom === '__proto__') throw illisible();
    const fichier = disposition ? /(?:^|;)\s*filename="([^"]{0,255})"/i.exec(disposition)?.[1] : undefined;
    if (!(nom in champs)) {
      if (fichier !== undefined) {
        const type = /^content-type:\s*([^\r\n;]{1,100})/im.exec(entetes)?.[1]?.trim() ?? 'application/octet-stream';
        champs[nom] = { nom: fichier, type, octets: new Uint8Array(contenu) };
      } else {
        if (contenu.length > MAX_TEXTE) throw illisible();
        champs[nom] = contenu.toString('utf8');
      }
    }
    pos = suivant + 2;
  }
}

/** Registers the parser, for bodies up to `bodyLimit` bytes (a file of a few MiB and its form). */
export function registerMultipart(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    try {
      done(null, lireMultipart(body as Buffer, String(request.headers['content-type'] ?? '')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
