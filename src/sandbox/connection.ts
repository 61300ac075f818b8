import type { DgfipConnection } from '../sources/dgfip.ts';
import type { SandboxHandle } from './server.ts';

/**
 * How Quotient's DGFiP clients reach a running sandbox, as plain data (a child process can receive
 * it): its URLs, its demo client, its test PKI.
 */
export function sandboxConnection(sandbox: SandboxHandle, scope = 'RessourceIR'): DgfipConnection {
  const client = sandbox.clients[0];
  if (!client) throw new RangeError('Le bac à sable n’a aucun client déclaré.');
  return {
    baseUrl: sandbox.baseUrl,
    tokenUrl: sandbox.tokenUrl,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    scope,
    idTeleservice: client.idTeleservice,
    caPem: sandbox.pki.caCertPem,
    clientCertPem: sandbox.pki.clientCertPem,
    clientKeyPem: sandbox.pki.clientKeyPem,
    sandbox: true,
  };
}

/** The same, as the `DGFIP_*` environment an operator would set for `quotient` to reach the sandbox. */
export function sandboxEnv(sandbox: SandboxHandle): Record<string, string> {
  const client = sandbox.clients[0];
  if (!client) throw new RangeError('Le bac à sable n’a aucun client déclaré.');
  return {
    DGFIP_BASE_URL: sandbox.baseUrl,
    DGFIP_TOKEN_URL: sandbox.tokenUrl,
    DGFIP_CLIENT_ID: client.clientId,
    DGFIP_CLIENT_SECRET: client.clientSecret,
    DGFIP_ID_TELESERVICE: client.idTeleservice,
    DGFIP_CA: sandbox.pki.paths.caCert,
    DGFIP_CLIENT_CERT: sandbox.pki.paths.clientCert,
    DGFIP_CLIENT_KEY: sandbox.pki.paths.clientKey,
  };
}
