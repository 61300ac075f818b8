import * as x509 from '@peculiar/x509';
import { createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QuotientError } from '../domain/errors.ts';

/**
 * The sandbox's test PKI: a CA, a server certificate for localhost/127.0.0.1 and a client
 * certificate, ECDSA P-256. Generated on first start into the data folder (mode 0600 files, 0700
 * folder), reused afterwards, regenerated when a certificate nears its end. The folder also keeps
 * the demo credentials, so that a configuration written against the sandbox survives a restart.
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const CA_DAYS = 5 * 365;
const LEAF_DAYS = 2 * 365;
/** Regenerate everything when a certificate has less than this left. */
const MARGIN_DAYS = 30;

const FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
  demo: 'demo.json',
  marker: 'LISEZMOI.txt',
} as const;

const MARKER_TEXT =
  'PKI de test du bac à sable DGFiP de Quotient, générée automatiquement.\n' +
  'Ces certificats et identifiants ne valent que pour le bac à sable : ne jamais les utiliser en production,\n' +
  'ne jamais les versionner. Supprimer ce dossier pour en générer de nouveaux.\n';

export interface SandboxPki {
  readonly dir: string;
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly paths: {
    readonly caCert: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
  };
}

/** Credentials of the demo client, kept with the PKI. */
export interface DemoCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly idTeleservice: string;
  readonly apiKey: string;
}

export interface SandboxFiles {
  readonly pki: SandboxPki;
  readonly demo: DemoCredentials;
}

export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function pemBody(text: string): Buffer {
  return Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** A positive serial (first byte below 0x80), as RFC 5280 asks. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', pemBody(keyPem), KEY_ALGORITHM, true, ['sign']);
}

interface Ca {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

async function createCa(commonName: string, now: number): Promise<Ca> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}, O=Quotient`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + CA_DAYS * DAY),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(
  ca: { cert: x509.X509Certificate; signingKey: CryptoKey },
  commonName: string,
  usage: 'server' | 'client',
  validity: { notBefore: Date; notAfter: Date },
): Promise<CertificateAndKey> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
  ];
  if (usage === 'server') {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${commonName}, O=Quotient`,
    issuer: ca.cert.subject,
    ...validity,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

function leafValidity(now: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - DAY), notAfter: new Date(now + LEAF_DAYS * DAY) };
}

function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

function newDemoCredentials(): DemoCredentials {
  return {
    clientId: 'quotient-bac-a-sable',
    clientSecret: randomSecret(),
    idTeleservice: 'QUOTIENT_BAC_A_SABLE',
    apiKey: randomSecret(),
  };
}

type Contents = Record<Exclude<keyof typeof FILES, 'marker'>, string>;

async function generate(now: number, demo: DemoCredentials): Promise<Contents> {
  const ca = await createCa('Quotient - bac a sable DGFiP - autorite de test', now);
  const signer = { cert: ca.cert, signingKey: ca.keys.privateKey };
  const server = await issue(signer, 'localhost', 'server', leafValidity(now));
  const client = await issue(signer, 'quotient-bac-a-sable-client', 'client', leafValidity(now));
  return {
    caCert: ca.cert.toString('pem') + '\n',
    caKey: await exportKey(ca.keys.privateKey),
    serverCert: server.certPem,
    serverKey: server.keyPem,
    clientCert: client.certPem,
    clientKey: client.keyPem,
    demo: JSON.stringify(demo, null, 2) + '\n',
  };
}

function isDemoCredentials(value: unknown): value is DemoCredentials {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return ['clientId', 'clientSecret', 'idTeleservice', 'apiKey'].every((k) => typeof v[k] === 'string' && (v[k] as string).length > 0);
}

async function read(dir: string): Promise<Contents | undefined> {
  try {
    const entries = await Promise.all(
      (Object.keys(FILES) as (keyof typeof FILES)[]).filter((k) => k !== 'marker').map(async (k) => [k, await readFile(join(dir, FILES[k]), 'utf8')] as const),
    );
    return Object.fromEntries(entries) as Contents;
  } catch {
    return undefined;
  }
}

function sameKey(certificate: x509.X509Certificate, keyPem: string): boolean {
  const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return Buffer.from(certificate.publicKey.rawData).equals(fromKey);
}

/** True when the files form a usable PKI for at least MARGIN_DAYS more. */
async function usable(c: Contents, now: number): Promise<DemoCredentials | undefined> {
  try {
    const demo: unknown = JSON.parse(c.demo);
    if (!isDemoCredentials(demo)) return undefined;
    const ca = new x509.X509Certificate(c.caCert);
    const limit = new Date(now + MARGIN_DAYS * DAY);
    for (const [certPem, keyPem] of [
      [c.caCert, c.caKey],
      [c.serverCert, c.serverKey],
      [c.clientCert, c.clientKey],
    ] as const) {
      const cert = new x509.X509Certificate(certPem);
      if (cert.notAfter < limit || cert.notBefore.getTime() > now + DAY) return undefined;
      if (!sameKey(cert, keyPem)) return undefined;
      if (!(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }))) return undefined;
    }
    return demo;
  } catch {
    return undefined;
  }
}

function toFiles(dir: string, c: Contents, demo: DemoCredentials): SandboxFiles {
  return {
    pki: {
      dir,
      caCertPem: c.caCert,
      caKeyPem: c.caKey,
      serverCertPem: c.serverCert,
      serverKeyPem: c.serverKey,
      clientCertPem: c.clientCert,
      clientKeyPem: c.clientKey,
      paths: {
        caCert: join(dir, FILES.caCert),
        serverCert: join(dir, FILES.serverCert),
        serverKey: join(dir, FILES.serverKey),
        clientCert: join(dir, FILES.clientCert),
        clientKey: join(dir, FILES.clientKey),
      },
    },
    demo,
  };
}

async function tighten(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const name of Object.values(FILES)) await chmod(join(dir, name), 0o600).catch(() => undefined);
}

async function isOurs(dir: string): Promise<'absent' | 'empty' | 'ours' | 'foreign'> {
  try {
    const names = await readdir(dir);
    if (names.length === 0) return 'empty';
    return names.includes(FILES.marker) ? 'ours' : 'foreign';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}

/**
 * Loads the sandbox's files from `dir`, creating them when absent or no longer usable. Safe when
 * several processes start at once: each generates in a private folder and renames it into place;
 * the first rename wins and the others read the winner's files.
 */
export async function loadOrCreateSandboxFiles(dir: string, now: number = Date.now()): Promise<SandboxFiles> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = await isOurs(dir);
    let previousDemo: DemoCredentials | undefined;
    if (state === 'ours') {
      const contents = await read(dir);
      const demo = contents ? await usable(contents, now) : undefined;
      if (contents && demo) {
        await tighten(dir);
        return toFiles(dir, contents, demo);
      }
      // Keep the demo credentials across a renewal of the certificates.
      try {
        const old: unknown = JSON.parse(await readFile(join(dir, FILES.demo), 'utf8'));
        if (isDemoCredentials(old)) previousDemo = old;
      } catch {
        previousDemo = undefined;
      }
    } else if (state === 'foreign') {
      throw new QuotientError(
        'conflict',
        'dossier_pki_occupe',
        `Le dossier ${dir} existe et ne contient pas la PKI du bac à sable : choisissez un dossier vide ou dédié.`,
      );
    }

    const parent = dirname(dir);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    const tmp = await mkdtemp(join(parent, `.${basename(dir)}-`));
    try {
      const demo = previousDemo ?? newDemoCredentials();
      const contents = await generate(now, demo);
      for (const key of Object.keys(contents) as (keyof Contents)[]) {
        await writeFile(join(tmp, FILES[key]), contents[key], { mode: 0o600 });
      }
      await writeFile(join(tmp, FILES.marker), MARKER_TEXT, { mode: 0o600 });
      await chmod(tmp, 0o700);
      if (state === 'ours') {
        // Move the stale bundle aside; another process may have done it already.
        await rename(dir, `${tmp}-ancien`).catch(() => undefined);
      }
      try {
        await rename(tmp, dir);
        await rm(`${tmp}-ancien`, { recursive: true, force: true });
        return toFiles(dir, contents, demo);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        // Another process won the race: loop and read its files.
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await rm(`${tmp}-ancien`, { recursive: true, force: true });
    }
  }
  throw new QuotientError('unavailable', 'pki_indisponible', `Impossible de préparer la PKI du bac à sable dans ${dir}.`);
}

/**
 * A further client certificate from the sandbox CA: a second téléservice, a rotation, or (with
 * dates in the past) an expired certificate.
 */
export async function issueClientCertificate(
  pki: Pick<SandboxPki, 'caCertPem' | 'caKeyPem'>,
  options: { commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<CertificateAndKey> {
  const now = Date.now();
  const cert = new x509.X509Certificate(pki.caCertPem);
  const signingKey = await importSigningKey(pki.caKeyPem);
  return issue({ cert, signingKey }, options.commonName ?? 'quotient-bac-a-sable-client-2', 'client', {
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + LEAF_DAYS * DAY),
  });
}

/** A client certificate from an unrelated CA: what the gateway must refuse. */
export async function createForeignClientCertificate(): Promise<CertificateAndKey & { caCertPem: string }> {
  const now = Date.now();
  const ca = await createCa('Autorite etrangere', now);
  const leaf = await issue({ cert: ca.cert, signingKey: ca.keys.privateKey }, 'client-etranger', 'client', leafValidity(now));
  return { ...leaf, caCertPem: ca.cert.toString('pem') + '\n' };
}

/** A server identity from an unrelated CA, for clients that must refuse an unknown gateway. */
export async function createForeignServerCertificate(): Promise<CertificateAndKey & { caCertPem: string }> {
  const now = Date.now();
  const ca = await createCa('Autorite etrangere', now);
  const leaf = await issue({ cert: ca.cert, signingKey: ca.keys.privateKey }, 'localhost', 'server', leafValidity(now));
  return { ...leaf, caCertPem: ca.cert.toString('pem') + '\n' };
}
