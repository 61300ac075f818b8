/**
 * A `multipart/form-data` body as a browser sends a form with a file: the text fields, then each
 * file with its name and claimed type (which the server must not trust).
 */
export interface FichierEnvoye {
  readonly champ: string;
  readonly nom: string;
  readonly type?: string;
  readonly octets: Uint8Array;
}

export function corpsMultipart(
  champs: Record<string, string>,
  fichiers: readonly FichierEnvoye[],
  boundary = 'frontiere-de-test-1234',
): { payload: Buffer; contentType: string } {
  const parties: Buffer[] = [];
  for (const [k, v] of Object.entries(champs)) parties.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of fichiers) {
    parties.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.champ}"; filename="${f.nom}"\r\nContent-Type: ${f.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      Buffer.from(f.octets),
      Buffer.from('\r\n'),
    );
  }
  parties.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parties), contentType: `multipart/form-data; boundary=${boundary}` };
}
