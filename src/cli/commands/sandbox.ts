import { resolve } from 'node:path';
import { QuotientError } from '../../domain/errors.ts';
import { calendarYear, DEFAULT_TAXATION_DATE, latestTaxedYear } from '../../sandbox/calendar.ts';
import { startSandbox, type CallRecord } from '../../sandbox/server.ts';
import { EXIT, parseCommandArgs, type CliCommand, type CliIo } from '../io.ts';

const DEFAULT_PORT = 8443;

const USAGE = `quotient sandbox [--port N] [--no-client-cert] [--data-dir DOSSIER] [--quiet]

Démarre le bac à sable DGFiP seul (données fictives), pour les tests d’intégration d’autres
logiciels : jeton OAuth 2.0, API Impôt particulier, R2P, SFiP, sur la passerelle en TLS mutuel,
et API Particulier v2 sur le port suivant, sans certificat client.

  --port N              port de la passerelle (${DEFAULT_PORT} par défaut ; 0 : ports libres au hasard)
  --no-client-cert      n’exige pas de certificat client (essais locaux seulement)
  --data-dir DOSSIER    dossier de la PKI de test et des identifiants (data/sandbox-pki par défaut)
  --quiet               n’affiche pas chaque appel reçu

Arrêt : Ctrl+C (SIGINT) ou SIGTERM.`;

function usageError(message: string): QuotientError {
  return new QuotientError('invalid', 'usage_invalide', message);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** One line per call: the path is already masked by the sandbox (no SPI, no query string). */
function describeCall(r: CallRecord): string {
  const d = new Date(r.at);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (r.tlsError) return `${time}  connexion TLS refusée (${r.tlsError}) : certificat client absent, inconnu ou expiré`;
  const status = r.status !== undefined ? String(r.status) : 'sans réponse';
  const fault = r.fault ? `  [panne simulée : ${r.fault}]` : '';
  const client = r.clientId ? `  (${r.clientId})` : '';
  return `${time}  ${r.method} ${r.path} → ${status}${client}${fault}`;
}

/**
 * Runs the sandbox until `stop` is aborted, then closes it and returns 0. The command wires
 * `stop` to SIGINT/SIGTERM; tests abort it themselves.
 */
export async function runSandbox(argv: string[], io: CliIo, stop: AbortSignal): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'no-client-cert': { type: 'boolean' },
      'data-dir': { type: 'string' },
      quiet: { type: 'boolean' },
    },
    allowPositionals: false,
    strict: true,
  });
  let port = DEFAULT_PORT;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
      throw usageError(`Utilisation incorrecte : --port attend un numéro de port entre 0 et 65535 (reçu « ${values.port} »).`);
    }
    port = Number(values.port);
  }
  const requireClientCert = values['no-client-cert'] !== true;
  const dataDir = resolve(io.cwd, values['data-dir'] ?? 'data/sandbox-pki');

  const sandbox = await startSandbox({
    port,
    apiParticulierPort: port === 0 ? 0 : port + 1,
    dataDir,
    requireClientCert,
    ...(values.quiet ? {} : { onCall: (r: CallRecord) => io.out(describeCall(r)) }),
  });

  const client = sandbox.clients[0];
  const now = Date.now();
  const latest = latestTaxedYear(now, DEFAULT_TAXATION_DATE);
  const n = calendarYear(now);
  const taxation = `${DEFAULT_TAXATION_DATE.day} juillet`;
  const years =
    latest === n - 1
      ? `${latest} (N-1) et ${latest - 1} (N-2)`
      : `${latest} (N-2) et ${latest - 1} (N-3) ; ${n - 1} (N-1) le sera à partir du ${taxation} ${n}`;
  io.out(
    [
      'Bac à sable DGFiP démarré : données fictives uniquement.',
      '',
      'Adresses :',
      `  Jeton OAuth 2.0 (client credentials)   ${sandbox.tokenUrl}`,
      `  API Impôt particulier                  ${sandbox.baseUrl}`,
      `  R2P                                    ${sandbox.r2pUrl}`,
      `  SFiP                                   ${sandbox.sfipUrl}`,
      `  API Particulier v2 (sans certificat)   ${sandbox.apiParticulierUrl}/api/v2/avis-imposition`,
      '',
      `Certificats de test (certificat client ${requireClientCert ? 'exigé' : 'NON exigé'}) :`,
      `  Autorité de certification   ${sandbox.pki.paths.caCert}`,
      `  Certificat client           ${sandbox.pki.paths.clientCert}`,
      `  Clé privée du client        ${sandbox.pki.paths.clientKey}`,
      '',
      'Client de démonstration :',
      `  client_id        ${client?.clientId ?? ''}`,
      `  client_secret    ${client?.clientSecret ?? ''}`,
      `  portées          ${client?.scopes.join(' ') ?? ''}`,
      `  ID_Teleservice   ${client?.idTeleservice ?? ''}`,
      `  Clé API Particulier (X-Api-Key)  ${sandbox.apiParticulierKeys[0] ?? ''}`,
      '',
      `Années de revenus servies aujourd’hui : ${years}.`,
      'Numéros fiscaux de test et cas particuliers : voir src/sandbox/README.md.',
      '',
      'Arrêt : Ctrl+C.',
    ].join('\n'),
  );

  if (!stop.aborted) await new Promise<void>((done) => stop.addEventListener('abort', () => done(), { once: true }));
  await sandbox.close();
  io.out('Bac à sable arrêté.');
  return EXIT.ok;
}

export const sandboxCommand: CliCommand = {
  summary: 'Bac à sable DGFiP seul (données fictives), pour les tests d’intégration d’autres logiciels.',
  usage: USAGE,
  async run(argv, io) {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await runSandbox(argv, io, controller.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
