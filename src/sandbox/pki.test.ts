import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createForeignServerCertificate, issueClientCertificate, loadOrCreateSandboxFiles } from './pki.ts';
import { send, startTestSandbox } from './test-support.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'quotient-pki-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('PKI de test', () => {
  it('crée l’autorité, les certificats serveur et client, en fichiers 0600 dans un dossier 0700', async () => {
    const dir = join(root, 'a', 'sandbox-pki');
    const { pki, demo } = await loadOrCreateSandboxFiles(dir);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const name of await readdir(dir)) assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600, name);
    const ca = new X509Certificate(pki.caCertPem);
    const server = new X509Certificate(pki.serverCertPem);
    const client = new X509Certificate(pki.clientCertPem);
    assert.ok(ca.ca);
    assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
    assert.ok(client.checkIssued(ca) && client.verify(ca.publicKey));
    assert.ok(server.checkHost('localhost'));
    assert.ok(server.checkIP('127.0.0.1'));
    assert.equal(client.checkHost('localhost'), undefined);
    assert.match(demo.clientSecret, /^[A-Za-z0-9_-]{32}$/);
  });

  it('réutilise la PKI existante, même quand plusieurs processus démarrent ensemble', async () => {
    const dir = join(root, 'b');
    const [x, y, z] = await Promise.all([loadOrCreateSandboxFiles(dir), loadOrCreateSandboxFiles(dir), loadOrCreateSandboxFiles(dir)]);
    assert.equal(x.pki.caCertPem, y.pki.caCertPem);
    assert.equal(y.pki.caCertPem, z.pki.caCertPem);
    const again = await loadOrCreateSandboxFiles(dir);
    assert.equal(again.pki.clientKeyPem, x.pki.clientKeyPem);
    assert.deepEqual(again.demo, x.demo);
    assert.deepEqual(
      (await readdir(root)).filter((n) => n.startsWith('.')),
      [],
      'aucun dossier temporaire ne reste',
    );
  });

  it('renouvelle les certificats proches de l’échéance en gardant les identifiants de démonstration', async () => {
    const dir = join(root, 'c');
    const first = await loadOrCreateSandboxFiles(dir);
    const later = await loadOrCreateSandboxFiles(dir, Date.now() + 720 * 86_400_000);
    assert.notEqual(later.pki.caCertPem, first.pki.caCertPem);
    assert.deepEqual(later.demo, first.demo);
  });

  it('refuse un dossier existant qui n’est pas le sien, accepte un dossier vide', async () => {
    const foreign = join(root, 'd');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'à moi');
    await assert.rejects(loadOrCreateSandboxFiles(foreign), /ne contient pas la PKI/);
    const empty = join(root, 'e');
    await mkdir(empty);
    await loadOrCreateSandboxFiles(empty);
    assert.ok((await readdir(empty)).includes('ca.pem'));
  });

  it('émet d’autres certificats clients, y compris expirés', async () => {
    const { pki } = await loadOrCreateSandboxFiles(join(root, 'f'));
    const extra = await issueClientCertificate(pki, { commonName: 'rotation' });
    const cert = new X509Certificate(extra.certPem);
    assert.ok(cert.checkIssued(new X509Certificate(pki.caCertPem)));
    assert.match(cert.subject, /CN=rotation/);
    const foreignServer = await createForeignServerCertificate();
    assert.ok(!new X509Certificate(foreignServer.certPem).checkIssued(new X509Certificate(pki.caCertPem)));
  });
});

describe('certificats refusés par la passerelle', () => {
  it('refuse un certificat client expiré de sa propre autorité', async () => {
    const t = await startTestSandbox();
    const now = Date.now();
    const expired = await t.sb.admin.issueClientCertificate({ notBefore: new Date(now - 10 * 86_400_000), notAfter: new Date(now - 86_400_000) });
    const agent = new Agent({ connect: { ca: t.sb.pki.caCertPem, cert: expired.certPem, key: expired.keyPem } });
    try {
      await assert.rejects(send(agent, t.sb.tokenUrl, { method: 'POST' }));
      assert.ok(t.sb.admin.calls().some((c) => c.tlsError));
    } finally {
      await agent.close();
      await t.close();
    }
  });
});
