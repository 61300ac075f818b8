import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import { pageContext, sendPage } from './render.tsx';
import { Layout } from './ui/layout.tsx';

/** A page of the families' side (portal, accounts), in the site's layout; the agents have `sendAgentPage`. */
export function sendFamilyPage(
  request: FastifyRequest,
  reply: FastifyReply,
  commune: CommuneConfig,
  title: string,
  body: ComponentChildren,
  status = 200,
): FastifyReply {
  return sendPage(
    reply,
    <Layout ctx={pageContext(request, reply, commune)} title={title}>
      {body}
    </Layout>,
    status,
  );
}
