import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { DatabaseSessionStore, FAMILY_SESSION_POLICY } from '../../http/session.ts';
import { ChiffrementSessions } from '../../http/session-chiffrement.ts';
import { Jar } from '../../http/test-cookies.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { DEMO_AGENT_PASSWORD } from '../../sandbox/agents/provider.tsx';
import { BACK_OFFICE_URL, createBackOfficeTestApp, type BackOfficeTestApp } from './test-support.ts';

let t: BackOfficeTestApp;
before(async () => {
  t = await createBackOfficeTestApp();
});
after(() => t.close());

const journal = async (action: string) => (await t.harness.journal.query({ action })).entries;

test('an agent signs in through the provider and sees only the sections of their role', async () => {
  const jar = await t.signInAgent('guichet');
  const home = await t.get(jar, '/agents');
  assert.equal(home.statusCode, 200);
  assert.match(home.body, /Bonjour Camille/);
  assert.match(home.body, /Accueil des familles/);
  assert.doesNotMatch(home.body, /href="\/agents\/administration"/);
  assert.doesNotMatch(home.body, /href="\/agents\/controle"/);
  assert.match(home.body, /Se déconnecter/);
  const row = await t.database.db.selectFrom('sessions').selectAll().where('agent_id', '=', t.agents.guichet.id).executeTakeFirstOrThrow();
  // Stricter than families: 15 minutes idle, 9 hours at most.
  const idle = Date.parse(row.idle_expires_at) - Date.parse(row.last_seen_at);
  assert.equal(idle, 15 * 60_000);
  assert.ok(Date.parse(row.absolute_expires_at) - Date.parse(row.created_at) <= 9 * 3600_000);
  const connexions = await journal('agent.connexion');
  assert.ok(connexions.some((e) => e.actor.id === t.agents.guichet.id && e.outcome === 'succes'));
});

test('anonymous visitors of the back-office are sent to the agents’ sign-in; families are refused, and both are traced', async () => {
  const anonymous = await t.get(new Jar(), '/agents');
  assert.equal(anonymous.statusCode, 303);
  assert.equal(anonymous.headers.location, '/agents/connexion');
  const { jar, compteId } = await t.signedInFamily({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '1985-04-02' }] }, 'lea.roux@exemple.fr');
  const family = await t.get(jar, '/agents');
  assert.equal(family.statusCode, 403);
  assert.match(family.body, /Vous n’avez pas accès à cette page/);
  const refusals = await journal('acces.refuse');
  assert.ok(refusals.some((e) => e.actor.type === 'anonyme' && e.details.route === '/agents'));
  assert.ok(refusals.some((e) => e.actor.type === 'famille' && e.actor.id === compteId && e.details.route === '/agents'));
});

test('someone the commune has not declared is refused at sign-in, and the refusal is traced; an e-mail bound to another identity is not taken over', async () => {
  const issuer = t.agentsProvider.issuer;
  await assert.rejects(t.services.agents.connecter({ issuer, sub: 'inconnu', email: 'inconnu@ailleurs.fr', prenom: 'In', nom: 'Connu' }), {
    code: 'agent_non_autorise',
  });
  assert.ok((await journal('agent.connexion')).some((e) => e.outcome === 'refus' && e.details.motif === 'inconnu'));
  // The counter agent is bound to their identity at the first sign-in (an earlier test): the same
  // e-mail from another subject is not them.
  await t.signInAgent('guichet');
  await assert.rejects(t.services.agents.connecter({ issuer, sub: 'usurpateur', email: t.agents.guichet.email, prenom: null, nom: null }), {
    code: 'agent_non_autorise',
  });
});

test('disabling an agent ends their sessions at once; a callback replayed or with a wrong state signs nobody in', async () => {
  const jar = await t.signInAgent('instructeur');
  assert.equal((await t.get(jar, '/agents')).statusCode, 200);
  const admin = { type: 'agent' as const, id: t.agents.administrateur.id };
  await t.services.agents.desactiver(t.agents.instructeur.id, admin);
  const after = await t.get(jar, '/agents');
  assert.equal(after.statusCode, 303);
  assert.equal(after.headers.location, '/agents/connexion');
  // The leftover cookie of a disabled agent on a public page: an ordinary visitor, never a 500.
  const stale = await t.signInAgent('guichet');
  await t.services.agents.desactiver(t.agents.guichet.id, admin);
  const publicPage = await t.get(stale, '/agents/connexion');
  assert.equal(publicPage.statusCode, 200);
  assert.match(publicPage.body, /Se connecter avec mon compte professionnel/);
  assert.equal(
    (await t.database.db.selectFrom('sessions').select('id_hash').where('agent_id', '=', t.agents.guichet.id).execute()).length,
    0,
    'no session of a disabled agent comes back',
  );
  await t.services.agents.reactiver(t.agents.guichet.id, admin);
  // Signing in again is refused while disabled.
  const again = new Jar();
  const start = await t.post(again, '/agents/connexion', '/agents/connexion', {});
  const { back } = await signInAtProvider(new URL(String(start.headers.location)), t.agents.instructeur.email, DEMO_AGENT_PASSWORD, BACK_OFFICE_URL);
  const refused = await t.get(again, back.pathname + back.search);
  assert.equal(refused.statusCode, 403);
  assert.match(refused.body, /pas autorisé/);
  assert.ok((await journal('agent.connexion')).some((e) => e.outcome === 'refus' && e.actor.id === t.agents.instructeur.id));
  // The same callback once more: the pending sign-in was used up.
  const replay = await t.get(again, back.pathname + back.search);
  assert.equal(replay.statusCode, 403);
  await t.services.agents.reactiver(t.agents.instructeur.id, admin);
  // A state that is not this browser's.
  const other = new Jar();
  const s2 = await t.post(other, '/agents/connexion', '/agents/connexion', {});
  const { back: back2 } = await signInAtProvider(new URL(String(s2.headers.location)), t.agents.instructeur.email, DEMO_AGENT_PASSWORD, BACK_OFFICE_URL);
  back2.searchParams.set('state', 'autre-etat');
  assert.equal((await t.get(other, back2.pathname + back2.search)).statusCode, 403);
  assert.equal((await t.get(other, '/agents')).statusCode, 303);
  const invalides = (await journal('agent.connexion')).filter((e) => e.actor.type === 'anonyme' && e.outcome === 'refus');
  assert.ok(
    invalides.some((e) => e.details.motif === 'connexion_agent_refusee'),
    'a callback that does not verify is traced',
  );
});

test('signing out ends the session here and at the provider', async () => {
  const jar = await t.signInAgent('auditeur');
  const out = await t.post(jar, '/agents', '/agents/deconnexion', {});
  assert.equal(out.statusCode, 303);
  const endSession = new URL(String(out.headers.location));
  assert.equal(endSession.origin, t.agentsProvider.issuer);
  assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${BACK_OFFICE_URL}/agents/deconnexion/fin`);
  assert.equal((await t.get(jar, '/agents')).statusCode, 303);
  assert.ok((await journal('agent.deconnexion')).some((e) => e.actor.id === t.agents.auditeur.id));
});

test('a session ended while one of its requests was running does not come back when that request saves it', async () => {
  const store = new DatabaseSessionStore(t.database.db, new ChiffrementSessions(randomBytes(32)), FAMILY_SESSION_POLICY, Date.now);
  const save = (id: string, data: object) => new Promise<void>((resolve, reject) => store.set(id, data, (e) => (e ? reject(e) : resolve())));
  const rows = (id: string) =>
    t.database.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', createHash('sha256').update(id).digest('base64url')).execute();
  // A new anonymous session is created on its first save...
  await save('a'.repeat(32), { _csrf: 'secret' });
  assert.equal((await rows('a'.repeat(32))).length, 1);
  // ...but a signed-in one whose row is gone was ended (disabled agent, reset password): not re-created.
  await save('b'.repeat(32), { agentId: t.agents.administrateur.id });
  await save('c'.repeat(32), { compteId: 'compte-parti' });
  assert.equal((await rows('b'.repeat(32))).length, 0);
  assert.equal((await rows('c'.repeat(32))).length, 0);
});
