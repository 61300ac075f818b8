import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { isQuotientError } from '../../domain/errors.ts';
import type { CliIo } from '../io.ts';
import { runSandbox } from './sandbox.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quotient-cli-sandbox-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function captureIo(lines: string[]): CliIo {
  return { out: (t) => void lines.push(t), err: (t) => void lines.push(t), env: {}, cwd: dir };
}

const field = (text: string, label: string): string => {
  const m = new RegExp(`${label}\\s+(\\S+)`).exec(text);
  assert.ok(m, `${label} absent de la sortie`);
  return m[1] as string;
};

async function waitFor(lines: string[], needle: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = lines.join('\n');
    if (text.includes(needle)) return text;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`« ${needle} » jamais affiché`);
}

describe('quotient sandbox', () => {
  it('affiche en français les adresses, les fichiers de la PKI et le client de démonstration, puis s’arrête sur demande', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const running = runSandbox(['--port', '0', '--data-dir', 'pki'], captureIo(lines), stop.signal);
    const text = await waitFor(lines, 'Arrêt : Ctrl+C.');
    assert.match(text, /Bac à sable DGFiP démarré/);
    assert.match(text, /certificat client exigé/);
    const tokenUrl = field(text, 'Jeton OAuth 2.0 \\(client credentials\\)');
    assert.match(field(text, 'API Impôt particulier'), /^https:\/\/127\.0\.0\.1:\d+\/impotparticulier\/1\.0$/);
    const ca = field(text, 'Autorité de certification');
    const cert = field(text, 'Certificat client');
    const key = field(text, 'Clé privée du client');
    assert.equal(ca, join(dir, 'pki', 'ca.pem'));
    const clientId = field(text, 'client_id');
    const secret = field(text, 'client_secret');
    assert.doesNotMatch(text, /\d{13}/, 'aucun numéro fiscal affiché');

    // What is printed is enough to call the sandbox.
    const agent = new Agent({ connect: { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) } });
    try {
      const res = await request(tokenUrl, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
        body: 'grant_type=client_credentials&scope=RessourceIR',
      });
      assert.equal(res.statusCode, 200);
      const { access_token } = (await res.body.json()) as { access_token: string };
      const base = field(text, 'API Impôt particulier');
      const data = await request(`${base}/spi/3999999932264/situations/ir/assiettes/annrev/2000`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${access_token}`, 'x-correlation-id': randomUUID(), id_teleservice: field(text, 'ID_Teleservice') },
      });
      await data.body.text();
      assert.ok([403, 410].includes(data.statusCode));
    } finally {
      await agent.close();
    }
    const log = await waitFor(lines, '/spi/*************/');
    assert.doesNotMatch(log, /3999999932264/, 'chemins masqués');

    stop.abort();
    assert.equal(await running, 0);
    assert.equal(lines.at(-1), 'Bac à sable arrêté.');
  });

  it('refuse un port invalide ou une option inconnue (erreur d’utilisation)', async () => {
    for (const argv of [['--port', 'huit'], ['--port', '70000'], ['--inconnue']]) {
      await assert.rejects(runSandbox(argv, captureIo([]), AbortSignal.abort()), (e) => isQuotientError(e) && e.kind === 'invalid');
    }
  });

  it('s’arrête proprement sur SIGTERM quand il est lancé par la commande quotient', async () => {
    const bin = new URL('../../../bin/quotient.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, 'sandbox', '--port', '0', '--no-client-cert', '--quiet', '--data-dir', join(dir, 'pki-bin')], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      for (let i = 0; i < 600 && !stdout.includes('Arrêt : Ctrl+C.'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(stdout, /certificat client NON exigé/);
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
      assert.match(stdout, /Bac à sable arrêté\./);
    } finally {
      clearTimeout(killer);
    }
  });
});
