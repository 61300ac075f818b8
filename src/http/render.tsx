import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import type { PageContext } from './ui/page-context.ts';

/** The frame data of the page answering this request. */
export function pageContext(request: FastifyRequest, reply: FastifyReply, commune: CommuneConfig): PageContext {
  const nonce = (reply as FastifyReply & { cspNonce?: { script: string } }).cspNonce?.script ?? '';
  const currentPath = request.url.split('?')[0] ?? '/';
  // Who took a measure and why is for signed-in agents only, never for a visitor of the agents' sign-in page.
  const agents = currentPath === '/agents' || currentPath.startsWith('/agents/');
  // `compte` is decorated by the sign-in routes; an app without them has no signed-in family.
  const compte = request.compte ?? null;
  return {
    commune,
    nonce,
    requestId: request.id,
    currentPath,
    incident: agents && !request.agent ? null : request.incident,
    famille: agents || !compte ? null : { nom: compte.displayName },
  };
}

/** Sends a server-rendered page; preact-render-to-string escapes every interpolated value. */
export function sendPage(reply: FastifyReply, page: VNode, status = 200): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(page)}`);
}
