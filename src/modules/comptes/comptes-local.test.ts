import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Jar, csrfOf } from '../../http/test-cookies.ts';
import { createComptesTestApp, PUBLIC_URL, type ComptesTestApp } from './test-support.ts';

let t: ComptesTestApp;
before(async () => {
  t = await createComptesTestApp({ signInPerMinute: 1000 });
});
after(() => t.close());

async function get(jar: Jar, url: string) {
  const res = await t.app.inject({ url, headers: { cookie: jar.header() } });
  jar.take(res.headers);
  return res;
}
async function submit(jar: Jar, formUrl: string, url: string, body: Record<string, string>) {
  const token = csrfOf((await get(jar, formUrl)).body);
  const res = await t.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams({ ...body, _csrf: token }).toString(),
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.take(res.headers);
  return res;
}
const linkIn = (text: string) => new URL(/https?:\/\/\S+/.exec(text)?.[0] as string);

/** Account mails leave after the answer (issue 12, hole 6): wait for the one that matches, a bounded number of turns. */
async function courriel(match: (m: { to: readonly string[]; text: string }) => boolean, after = 0) {
  for (let i = 0; i < 200; i++) {
    const found = t.smtp.messages.slice(after).findLast(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}
const PASSWORD = 'Cantine du mercredi 2026';

test('local account: sign-up, verification e-mail, sign-in with a renewed session, reset, old password refused', async () => {
  const jar = new Jar();
  const weak = await submit(jar, '/inscription', '/inscription', { prenoms: 'Julie', nom: 'Garnier', email: 'julie@exemple.fr', password: 'court' });
  assert.equal(weak.statusCode, 400);
  assert.match(weak.body, /au moins 12 caractères/);
  assert.match(weak.body, /href="#password"/);

  const avant = t.smtp.messages.length;
  const ok = await submit(jar, '/inscription', '/inscription', { prenoms: 'Julie', nom: 'Garnier', email: 'Julie@Exemple.fr', password: PASSWORD });
  assert.equal(ok.statusCode, 200);
  assert.match(ok.body, /Vérifiez votre messagerie/);
  const mail = await courriel((m) => m.to.includes('julie@exemple.fr'), avant);
  assert.deepEqual(mail?.to, ['julie@exemple.fr']);
  const link = linkIn(mail?.text ?? '');
  assert.equal(link.pathname, '/inscription/confirmation');

  // Before confirmation, the right password does not open the account.
  const early = await submit(jar, '/connexion', '/connexion', { email: 'julie@exemple.fr', password: PASSWORD });
  assert.equal(early.statusCode, 400);
  assert.match(early.body, /pas encore confirmée/);

  const token = link.searchParams.get('jeton') as string;
  assert.equal((await submit(jar, link.pathname + link.search, '/inscription/confirmation', { jeton: token })).statusCode, 200);
  assert.equal((await get(jar, link.pathname + link.search)).statusCode, 400, 'single use: the link page says it expired');
  assert.equal((await submit(jar, '/connexion', '/inscription/confirmation', { jeton: token })).statusCode, 400, 'single use');

  const before = jar.cookies.get('quotient');
  const signIn = await submit(jar, '/connexion', '/connexion', { email: 'julie@exemple.fr', password: PASSWORD });
  assert.equal(signIn.statusCode, 303);
  assert.notEqual(jar.cookies.get('quotient'), before);
  assert.match((await get(jar, '/mon-espace')).body, /Julie Garnier/);

  const avantReset = t.smtp.messages.length;
  const reset = await submit(new Jar(), '/mot-de-passe-oublie', '/mot-de-passe-oublie', { email: 'julie@exemple.fr' });
  assert.match(reset.body, /Si un compte existe/);
  const resetLink = linkIn((await courriel((m) => /mot-de-passe\/nouveau/.test(m.text), avantReset))?.text ?? '');
  const other = new Jar();
  const NEW = 'Piscine le samedi matin 7';
  assert.equal(
    (
      await submit(other, resetLink.pathname + resetLink.search, '/mot-de-passe/nouveau', {
        jeton: resetLink.searchParams.get('jeton') as string,
        password: NEW,
      })
    ).statusCode,
    200,
  );
  assert.equal((await get(jar, '/mon-espace')).statusCode, 303, 'sessions opened with the old password are ended');
  assert.equal((await submit(other, '/connexion', '/connexion', { email: 'julie@exemple.fr', password: PASSWORD })).statusCode, 400);
  assert.equal((await submit(other, '/connexion', '/connexion', { email: 'julie@exemple.fr', password: NEW })).statusCode, 303);
  // Tokens are stored as digests only.
  const rows = await t.database.db.selectFrom('compte_jetons').select('token_hash').execute();
  assert.ok(!rows.some((r) => r.token_hash === token));
  const hash = (await t.database.db.selectFrom('comptes').select('password_hash').where('email', '=', 'julie@exemple.fr').executeTakeFirstOrThrow())
    .password_hash;
  assert.match(hash ?? '', /^\$argon2id\$/);
});

test('no account enumeration: same answers for known and unknown addresses', async () => {
  const jar = new Jar();
  await submit(jar, '/inscription', '/inscription', { prenoms: 'Hugo', nom: 'Girard', email: 'hugo@exemple.fr', password: PASSWORD });
  const again = await submit(jar, '/inscription', '/inscription', { prenoms: 'Autre', nom: 'Personne', email: 'hugo@exemple.fr', password: PASSWORD });
  const fresh = await submit(jar, '/inscription', '/inscription', { prenoms: 'Autre', nom: 'Personne', email: 'nouveau@exemple.fr', password: PASSWORD });
  assert.equal(again.statusCode, fresh.statusCode);
  assert.match((await courriel((m) => m.to.includes('hugo@exemple.fr') && /existe déjà/.test(m.text)))?.text ?? '', /un compte existe déjà/);
  const known = await submit(jar, '/mot-de-passe-oublie', '/mot-de-passe-oublie', { email: 'hugo@exemple.fr' });
  const unknown = await submit(jar, '/mot-de-passe-oublie', '/mot-de-passe-oublie', { email: 'personne@exemple.fr' });
  assert.equal(known.statusCode, unknown.statusCode);
  assert.equal(
    known.body.replace(/nonce-[^"']+|value="[^"]+"|<code>[^<]+<\/code>/g, ''),
    unknown.body.replace(/nonce-[^"']+|value="[^"]+"|<code>[^<]+<\/code>/g, ''),
  );
});

test('throttling: after 5 failures an address is held back, known or not, with the same French message', async () => {
  const jar = new Jar();
  await submit(jar, '/inscription', '/inscription', { prenoms: 'Lea', nom: 'Roux', email: 'lea@exemple.fr', password: PASSWORD });
  for (const email of ['lea@exemple.fr', 'inconnue@exemple.fr']) {
    for (let i = 0; i < 4; i += 1)
      assert.match(
        (await submit(jar, '/connexion', '/connexion', { email, password: 'mauvais mot de passe' })).body,
        /Adresse électronique ou mot de passe incorrect/,
      );
    const held = await submit(jar, '/connexion', '/connexion', { email, password: 'mauvais mot de passe' });
    assert.equal(held.statusCode, 429);
    assert.match(held.body, /Trop d’essais infructueux/);
  }
});

test('the per-address-IP limit answers 429 in French', async () => {
  const limited = await createComptesTestApp({ signInPerMinute: 2 });
  try {
    const jar = new Jar();
    const token = csrfOf((await limited.app.inject({ url: '/connexion' }).then((r) => (jar.take(r.headers), r))).body);
    const statuses: number[] = [];
    let last = '';
    for (let i = 0; i < 3; i += 1) {
      const res = await limited.app.inject({
        method: 'POST',
        url: '/connexion',
        payload: `_csrf=${encodeURIComponent(token)}&email=a%40exemple.fr&password=x`,
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      });
      statuses.push(res.statusCode);
      last = res.body;
    }
    assert.deepEqual(statuses, [400, 400, 429]);
    assert.match(last, /Trop de tentatives/);
  } finally {
    await limited.close();
  }
});

test('behind a reverse proxy, a client rotating X-Forwarded-For does not escape the per-address limit', async () => {
  // One proxy in front (QUOTIENT_TRUST_PROXY=1), or the proxy named by its address: the address the
  // proxy saw is the client's, whatever the client wrote before it in X-Forwarded-For.
  for (const [trust, remoteAddress] of [
    ['1', '127.0.0.1'],
    ['10.0.0.5', '10.0.0.5'],
  ] as const) {
    const limited = await createComptesTestApp({ signInPerMinute: 2, env: { QUOTIENT_TRUST_PROXY: trust } });
    try {
      const jar = new Jar();
      const token = csrfOf((await limited.app.inject({ url: '/connexion' }).then((r) => (jar.take(r.headers), r))).body);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const res = await limited.app.inject({
          method: 'POST',
          url: '/connexion',
          remoteAddress,
          payload: `_csrf=${encodeURIComponent(token)}&email=a%40exemple.fr&password=x`,
          headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.${i + 1}, 203.0.113.7` },
        });
        statuses.push(res.statusCode);
      }
      assert.deepEqual(statuses, [400, 400, 429, 429], `QUOTIENT_TRUST_PROXY=${trust}`);
    } finally {
      await limited.close();
    }
  }
});

test('anonymous visits store no session: 200 page and form views, with or without cookies, leave no row; a sign-in then stores one', async () => {
  const rows = async () => (await t.database.db.selectFrom('sessions').select('id_hash').execute()).length;
  const before = await rows();
  const pages = ['/', '/simulateur', '/connexion', '/inscription', '/mot-de-passe-oublie', '/deconnexion', '/contact'];
  const jar = new Jar();
  for (let i = 0; i < 200; i += 1) {
    const url = pages[i % pages.length] as string;
    // Half as a client that never keeps cookies (each view a new visitor), half as a browser.
    const res = i % 2 === 0 ? await t.app.inject({ url }) : await get(jar, url);
    assert.equal(res.statusCode, 200, url);
  }
  assert.equal(await rows(), before, 'no session row for anonymous views');
  // The browser's forms still work: a failed sign-in is refused as such (not as an expired form)...
  const failed = await submit(jar, '/connexion', '/connexion', { email: 'personne@exemple.fr', password: 'pas le bon mot de passe' });
  assert.equal(failed.statusCode, 400);
  assert.match(failed.body, /Adresse électronique ou mot de passe incorrect/);
  assert.equal(await rows(), before);
  // ...and a sign-in stores exactly one (Julie's password since the reset of the first test).
  const ok = await submit(jar, '/connexion', '/connexion', { email: 'julie@exemple.fr', password: 'Piscine le samedi matin 7' });
  assert.equal(ok.statusCode, 303);
  assert.equal(await rows(), before + 1);
  assert.equal((await get(jar, '/mon-espace')).statusCode, 200);
});

test('a form sent from another site (Origin, Sec-Fetch-Site) is refused with a French page and journaled, even with a valid token', async () => {
  const jar = new Jar();
  const refus = async () => (await t.journal.query({ action: 'acces.refuse' }, { limit: 500 })).entries.filter((e) => e.details.motif === 'origine').length;
  const before = await refus();
  const send = async (headers: Record<string, string>) => {
    const token = csrfOf((await get(jar, '/connexion')).body);
    return t.app.inject({
      method: 'POST',
      url: '/connexion',
      payload: new URLSearchParams({ _csrf: token, email: 'autre-site@exemple.fr', password: 'pas le bon mot de passe' }).toString(),
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  };
  const ailleurs: Array<Record<string, string>> = [
    { origin: 'https://attaquant.exemple' },
    { origin: 'null', 'sec-fetch-site': 'cross-site' },
    { origin: 'http://localhost:4000' },
    { 'sec-fetch-site': 'cross-site' },
  ];
  for (const headers of ailleurs) {
    const res = await send(headers);
    assert.equal(res.statusCode, 403, JSON.stringify(headers));
    assert.match(res.body, /<html lang="fr"/);
    assert.match(res.body, /Ce formulaire a été envoyé depuis un autre site : rien n’a été enregistré/);
  }
  assert.equal(await refus(), before + 4, 'each refusal journaled');
  // From our own pages (the public address, or this machine under another name in the demo; « null »
  // is what a browser sends under Referrer-Policy: no-referrer): the form is judged as usual.
  const ici: Array<Record<string, string>> = [
    { origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' },
    { origin: 'null', 'sec-fetch-site': 'same-origin' },
    { origin: 'http://127.0.0.1:3999' },
    {},
  ];
  for (const headers of ici) {
    const res = await send(headers);
    assert.equal(res.statusCode, 400, JSON.stringify(headers));
    assert.match(res.body, /Adresse électronique ou mot de passe incorrect/);
  }
  // Reading is not concerned: a link from another site opens the page.
  assert.equal((await t.app.inject({ url: '/connexion', headers: { origin: 'https://attaquant.exemple', 'sec-fetch-site': 'cross-site' } })).statusCode, 200);
});

test('/dev/courriels shows the captured messages and never a numéro fiscal', async () => {
  const res = await t.app.inject({ url: '/dev/courriels' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Confirmez votre adresse électronique/);
  for (const m of t.smtp.messages) assert.doesNotMatch(m.raw, /(?<![0-9])[0-9]{13}(?![0-9])|€/);
});
