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
