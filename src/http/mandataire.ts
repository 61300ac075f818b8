import { BlockList, isIPv4 } from 'node:net';
import type { TrustProxy } from '../infra/config/config.ts';

/**
 * The reverse proxies Quotient believes (QUOTIENT_TRUST_PROXY), as Fastify asks for them: for each
 * hop of X-Forwarded-For, from the nearest, whether the address that handed the request on is one
 * of ours. The first hop not trusted is the client's address, the one the sign-in throttle counts.
 */
export interface Mandataires {
  /** Fastify's `trustProxy`: false, or the test of each hop. */
  readonly fastify: false | ((address: string, hop: number) => boolean);
  /** True when the peer of the connection is a trusted proxy (it may then set X-Request-Id). */
  depuisMandataire(peer: string | undefined): boolean;
}

/** `::ffff:10.0.0.5`, as a dual-stack socket reports an IPv4 peer, is 10.0.0.5. */
function normalise(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(.+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return { address: mapped, type: 'ipv4' };
  return { address, type: isIPv4(address) ? 'ipv4' : 'ipv6' };
}

export function mandataires(trust: TrustProxy): Mandataires {
  if (trust === false) return { fastify: false, depuisMandataire: () => false };
  if (typeof trust === 'number') {
    // N proxies in front: the nearest N hops are theirs, whatever their addresses.
    return { fastify: (_address, hop) => hop < trust, depuisMandataire: () => true };
  }
  const list = new BlockList();
  for (const entry of trust) {
    const [ip = '', prefix] = entry.split('/');
    const { address, type } = normalise(ip);
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  const known = (peer: string | undefined) => {
    if (peer === undefined) return false;
    const { address, type } = normalise(peer);
    try {
      return list.check(address, type);
    } catch {
      // Not an address at all (a forged hop such as « unknown »): not one of ours.
      return false;
    }
  };
  return { fastify: (address) => known(address), depuisMandataire: known };
}
