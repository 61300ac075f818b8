import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { composeServices, startBuiltInSandbox } from '../../app/compose.ts';
import { createSmtpMailer, startCaptureSmtp } from '../../infra/mail/mailer.ts';
import { startLocalProvider, FC_PASSWORD } from '../../sandbox/franceconnect/provider.tsx';
import { DEMO_AGENT_PASSWORD, DEMO_AGENTS, startLocalAgentsProvider } from '../../sandbox/agents/provider.tsx';
import { LIBELLES_ROLES } from '../../modules/agents/roles.ts';
import { franceConnectRedirectUris } from '../../modules/comptes/franceconnect-client.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { parseCommandArgs, type CliCommand } from '../io.ts';
import { seedDemo } from '../demo-seed.ts';
import { marquerDossierDemoSiNeuf, reinitialiserDemo } from '../demo-reset.ts';
import { QuotientError } from '../../domain/errors.ts';
import { loadConfig } from '../../infra/config/config.ts';
import { DEMO_SPIS, decrireIdentite } from '../demo-identites.ts';
import { describeDatabase, migrate, openRuntime, startHttpServer } from '../runtime.ts';

/** Sandbox identities whose FranceConnect journey ends on a QF without review, described as the sandbox answers them. */
export const demoLogins = (maintenant = Date.now()) => DEMO_SPIS.map((login) => ({ login, qui: decrireIdentite(login, maintenant) }));

/**
 * The key of a local provider's pseudonymous `sub`, kept in the data folder: the same sandbox
 * identity (or demo agent) finds the same account after a restart, as with the real providers.
 */
function subjectKey(dataDir: string, name: string): Buffer {
  const file = join(dataDir, `${name}-demo-sub.key`);
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

/**
 * The providers listen next to Quotient (port + 1, + 2) so that their issuer, which accounts are
 * bound to, stays the same from one start to the next; a busy port falls back to any free one.
 */
async function onPreferredPort<T>(port: number, start: (port: number) => Promise<T>): Promise<T> {
  try {
    return await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return start(0);
  }
}

export const demoCommand: CliCommand = {
  summary: 'Démonstration complète sur cette machine (base embarquée, bac à sable, comptes de démonstration).',
  usage:
    'quotient demo [--reset --oui]\n\nRien à configurer : base SQLite sous ./data, commune de démonstration. Arrêt : Ctrl+C.\n' +
    '  --reset --oui   efface le dossier de données de la démonstration, puis la recrée (base, familles, comptes, certificats)',
  async run(argv, io) {
    const { values } = parseCommandArgs({
      args: argv,
      options: { reset: { type: 'boolean', default: false }, oui: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    // Before anything opens the database: the folder is wiped, then recreated below.
    if (values.reset) io.out(reinitialiserDemo(loadConfig(io.env, { mode: 'demo', cwd: io.cwd }), io.cwd, values.oui));
    else if (values.oui) throw new QuotientError('invalid', 'usage_invalide', '« --oui » confirme « --reset » : utilisez-les ensemble.');
    marquerDossierDemoSiNeuf(loadConfig(io.env, { mode: 'demo', cwd: io.cwd }).dataDir);
    const runtime = openRuntime(io, 'demo');
    const { config } = runtime;
    const closers: Array<() => Promise<void>> = [];
    const closeAll = async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    };
    try {
      await migrate(runtime);
      // The built-in DGFiP sandbox (unless the DGFIP_* variables name a gateway), the journal, the
      // silo and the processing loop; then a few families so that every screen has something.
      // E-mails stay on this machine: a local SMTP server keeps them for the outbox page.
      const smtp = await startCaptureSmtp();
      closers.push(() => smtp.close());
      const mailer = createSmtpMailer({ url: smtp.url, from: 'Quotient familial <ne-pas-repondre@exemple.fr>' });
      // Started before the services: the local FranceConnect tells it whose token is whose.
      const sandbox = config.dgfip.baseUrl === undefined ? await startBuiltInSandbox(config) : undefined;
      if (sandbox) closers.push(() => sandbox.close());
      const client = { clientId: 'quotient-demo', clientSecret: randomBytes(24).toString('base64url') };
      const provider = await onPreferredPort(config.port + 1, (port) =>
        startLocalProvider({
          port,
          clients: [
            {
              ...client,
              redirectUris: franceConnectRedirectUris(config.publicUrl),
              postLogoutRedirectUris: [`${config.publicUrl}/deconnexion/fin`],
            },
          ],
          subjectKey: subjectKey(config.dataDir, 'franceconnect'),
          // The sandbox resolves the token to the person and checks its DGFiP scopes, as API Impôt particulier « via FranceConnect » does.
          ...(sandbox
            ? {
                onAccessToken: (token: string, spi: string, expiresAt: number, scopes: readonly string[]) =>
                  sandbox.admin.registerFranceConnectToken(token, spi, expiresAt, scopes),
              }
            : {}),
        }),
      );
      closers.push(() => provider.close());
      const agentsClient = { clientId: 'quotient-demo-agents', clientSecret: randomBytes(24).toString('base64url') };
      const agentsProvider = await onPreferredPort(config.port + 2, (port) =>
        startLocalAgentsProvider({
          port,
          subjectKey: subjectKey(config.dataDir, 'agents'),
          clients: [
            {
              ...agentsClient,
              redirectUris: [`${config.publicUrl}/agents/connexion/retour`],
              postLogoutRedirectUris: [`${config.publicUrl}/agents/deconnexion/fin`],
            },
          ],
        }),
      );
      closers.push(() => agentsProvider.close());
      const services = await composeServices(runtime, {
        ...(sandbox ? { dgfip: sandbox } : {}),
        mailer,
        outbox: smtp.messages,
        franceConnect: { issuer: provider.issuer, ...client },
        agentsOidc: { issuer: agentsProvider.issuer, ...agentsClient, signingAlg: 'ES256', acr: 'eidas1' },
      });
      closers.push(() => services.stop());
      const server = await startHttpServer(runtime, services, { onStop: [closeAll] });
      const seeded = await seedDemo(services, runtime.database.db, runtime.logger);
      const dgfip = services.dgfip;
      const base = server.url;
      const dataDir = relative(io.cwd, config.dataDir) || '.';
      io.out(
        [
          '',
          `  Quotient — démonstration (${config.commune.commune.nom})`,
          '',
          `  Portail des familles   ${base}/`,
          `  Se connecter           ${base}/connexion`,
          `  FranceConnect (local)  ${provider.issuer}  (identités fictives du bac à sable)`,
          ...demoLogins().map(
            (d, i) => `  ${i === 0 ? 'Identifiants de démo  ' : '                      '} ${d.login} / mot de passe ${FC_PASSWORD}  (${d.qui})`,
          ),
          `  Espace agents          ${base}/agents  (mot de passe ${DEMO_AGENT_PASSWORD})`,
          ...DEMO_AGENTS.map((a) => `                         ${a.email.padEnd(34)} ${a.roles.map((r) => LIBELLES_ROLES[r]).join(', ')}`),
          `  Essai au guichet       créer la famille de Hugo Girard, né le 30/11/2004, et saisir le numéro fiscal ${SPI_SANDBOX.primoDeclarant}`,
          `  Courriels envoyés      ${base}/dev/courriels`,
          `  État du service        ${base}/healthz  ·  ${base}/readyz`,
          ...(server.metriques ? [`  Métriques              ${server.metriques.url}`] : []),
          `  Base de données        ${describeDatabase(config.databaseUrl)}`,
          dgfip.sandbox
            ? `  Bac à sable DGFiP      ${dgfip.sandbox.baseUrl}  (certificats : ${relative(io.cwd, dgfip.sandbox.pki.dir) || '.'}/)`
            : `  DGFiP                  ${dgfip.connection.baseUrl}`,
          `  Données locales        ${dataDir}/`,
          seeded > 0 ? `  Familles de démo       ${seeded} demandes traitées avec le bac à sable` : '  Familles de démo       déjà présentes',
          '',
          '  Arrêt : Ctrl+C',
          '',
        ].join('\n'),
      );
      return await server.stopped;
    } catch (error) {
      await closeAll();
      await runtime.database.close().catch(() => undefined);
      throw error;
    }
  },
};
