import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isQuotientError, type QuotientError } from '../../domain/errors.ts';
import { loadConfig } from './config.ts';
import { bombeYaml } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configError(env: Record<string, string>, mode: 'demo' | 'production' = 'demo'): QuotientError {
  try {
    loadConfig(env, { mode, cwd: dir });
  } catch (error) {
    assert.ok(isQuotientError(error), 'a typed error');
    assert.equal(error.code, 'configuration_invalide');
    assert.equal(error.kind, 'invalid');
    return error;
  }
  assert.fail('the configuration should have been refused');
}

test('demo needs nothing: embedded database, port 3000, the demo commune', () => {
  const config = loadConfig({}, { mode: 'demo', cwd: dir });
  assert.equal(config.databaseUrl, `sqlite:${join(dir, 'data', 'quotient.db')}`);
  assert.equal(config.port, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.publicUrl, 'http://localhost:3000');
  assert.equal(config.dgfip.quotaPerMinute, 50);
  assert.equal(config.commune.commune.nom, 'Ville de Démonstration');
  assert.equal(config.politiqueFile, new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url).pathname);
  assert.equal(config.politique.commune.nom, 'Boulogne-Billancourt');
  assert.equal(config.politique.activites[0]?.libelle, 'Restauration scolaire');
});

test('each wrong variable is named with a French reason', () => {
  const error = configError({ QUOTIENT_PORT: 'trois mille', QUOTIENT_DATABASE_URL: 'mysql://x', DGFIP_QUOTA_PER_MINUTE: '0' });
  const paths = error.details.map((d) => d.path).sort();
  assert.deepEqual(paths, ['DGFIP_QUOTA_PER_MINUTE', 'QUOTIENT_DATABASE_URL', 'QUOTIENT_PORT']);
  assert.match(error.details.find((d) => d.path === 'QUOTIENT_DATABASE_URL')?.message ?? '', /sqlite:CHEMIN/);
  assert.match(error.details.find((d) => d.path === 'DGFIP_QUOTA_PER_MINUTE')?.message ?? '', /au moins 1/);
});

test('production requires the commune file; a DGFiP gateway requires all its credentials', () => {
  assert.deepEqual(
    configError({}, 'production').details.map((d) => d.path),
    ['QUOTIENT_CONFIG'],
  );
  const dgfip = configError({ DGFIP_BASE_URL: 'https://gw.exemple.fr/impotparticulier/1.0', DGFIP_CLIENT_ID: 'x' });
  assert.deepEqual(dgfip.details.map((d) => d.path).sort(), ['DGFIP_CLIENT_SECRET', 'DGFIP_ID_TELESERVICE', 'DGFIP_TOKEN_URL']);
  const certFile = join(dir, 'client.pem');
  writeFileSync(certFile, 'x');
  assert.deepEqual(
    configError({ DGFIP_CLIENT_CERT: certFile }).details.map((d) => d.path),
    ['DGFIP_CLIENT_KEY'],
  );
  assert.deepEqual(
    configError({ DGFIP_CA: 'absent.pem' }).details.map((d) => d.path),
    ['DGFIP_CA'],
  );
  assert.deepEqual(configError({ DGFIP_BASE_URL: 'http://gw.exemple.fr' }).details.map((d) => d.path)[0], 'DGFIP_BASE_URL');
});

test('a commune file with wrong fields names each field path', () => {
  const file = join(dir, 'commune.yaml');
  writeFileSync(
    file,
    [
      'commune: { nom: Boulogne-Billancourt, codeInsee: "9201", adresse: { lignes: [Mairie], codePostal: "92100", ville: Boulogne } }',
      'contact: { service: Famille, email: pas-un-courriel }',
      'dpo: { email: dpo@exemple.fr }',
      'mentionsLegales: { editeur: Ville, directeurPublication: Maire, hebergeur: { nom: DSI, adresse: Mairie } }',
      'coulerur: bleu',
    ].join('\n'),
  );
  const error = configError({ QUOTIENT_CONFIG: file });
  const paths = error.details.map((d) => d.path).sort();
  // The misspelt field is named at its own path, as the administrator wrote it.
  assert.deepEqual(paths, ['commune.codeInsee', 'contact.email', 'coulerur', 'habilitation', 'politiqueTarifaire']);
  assert.match(error.details.find((d) => d.path === 'politiqueTarifaire')?.message ?? '', /champ obligatoire : le chemin du fichier de la politique tarifaire/);
  assert.match(error.details.find((d) => d.path === 'coulerur')?.message ?? '', /champ inconnu/);
  assert.match(error.message, /commune\.yaml/);
});

test('a file that is not YAML says where', () => {
  const file = join(dir, 'casse.yaml');
  writeFileSync(file, 'commune:\n  nom: "non fermé\n');
  assert.match(configError({ QUOTIENT_CONFIG: file }).message, /n’est pas un YAML valide \(ligne \d+/);
  assert.match(configError({ QUOTIENT_CONFIG: join(dir, 'absent.yaml') }).details[0]?.message ?? '', /fichier introuvable/);
});

test('a commune file with YAML aliases (the alias bomb) is refused at once, in French', { timeout: 20_000 }, () => {
  const file = join(dir, 'bombe.yaml');
  writeFileSync(file, bombeYaml());
  assert.match(
    configError({ QUOTIENT_CONFIG: file }).message,
    /n’est pas un YAML valide \(ligne 2, colonne 9\) : les alias YAML \(« \*nom »\) ne sont pas acceptés/,
  );
});

test('QUOTIENT_TRUST_PROXY: a number of proxies or their addresses; « true » is refused with what to write instead', () => {
  const trust = (value: string) => loadConfig({ QUOTIENT_TRUST_PROXY: value }, { mode: 'demo', cwd: dir }).trustProxy;
  assert.equal(loadConfig({}, { mode: 'demo', cwd: dir }).trustProxy, false);
  assert.equal(trust('false'), false);
  assert.equal(trust('1'), 1);
  assert.equal(trust('2'), 2);
  assert.deepEqual(trust('10.0.0.5, 10.0.0.6,2001:db8::/32'), ['10.0.0.5', '10.0.0.6', '2001:db8::/32']);
  for (const value of ['true', 'oui']) {
    const [detail] = configError({ QUOTIENT_TRUST_PROXY: value }).details;
    assert.equal(detail?.path, 'QUOTIENT_TRUST_PROXY');
    assert.match(
      detail?.message ?? '',
      /croirait toute adresse annoncée par le client : indiquez le nombre de mandataires inverses devant Quotient \(par exemple 1\) ou leurs adresses/,
    );
  }
  for (const value of ['10.0.0.300', '10.0.0.0/33', 'proxy.ville.fr', '50']) {
    assert.equal(configError({ QUOTIENT_TRUST_PROXY: value }).details[0]?.path, 'QUOTIENT_TRUST_PROXY', value);
  }
});

const BOULOGNE = readFileSync(new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url), 'utf8');

const HABILITATION =
  'habilitation: { idTeleservice: TS_QF, scopes: [RessourceIR], baseLegale: "Article L. 114-8 du CRPA", finalite: "Calcul du quotient familial", versionTexteConsentement: "1" }';

/** A valid commune file naming `politique`, written in its own folder. */
function communeFile(folder: string, politique: string): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'commune.yaml');
  writeFileSync(
    file,
    [
      'commune: { nom: Boulogne-Billancourt, codeInsee: "92012", adresse: { lignes: [Mairie], codePostal: "92100", ville: Boulogne-Billancourt } }',
      'contact: { service: Famille, email: famille@exemple.fr }',
      'dpo: { email: dpo@exemple.fr }',
      'mentionsLegales: { editeur: Ville, directeurPublication: Maire, hebergeur: { nom: DSI, adresse: Mairie } }',
      HABILITATION,
      `politiqueTarifaire: ${politique}`,
    ].join('\n'),
  );
  return file;
}

test('a relative policy path is taken from the commune file’s folder, not from the working directory', () => {
  const folder = join(dir, 'ville');
  communeFile(folder, 'tarifs/politique.yaml');
  mkdirSync(join(folder, 'tarifs'), { recursive: true });
  writeFileSync(join(folder, 'tarifs', 'politique.yaml'), BOULOGNE);
  const config = loadConfig({ QUOTIENT_CONFIG: 'ville/commune.yaml' }, { mode: 'production', cwd: dir });
  assert.equal(config.politiqueFile, join(folder, 'tarifs', 'politique.yaml'));
  assert.equal(config.politique.activites.length, 3);
});

test('a missing policy file is named, with the field that points at it', () => {
  const file = communeFile(join(dir, 'sans-politique'), 'absente.yaml');
  const error = configError({ QUOTIENT_CONFIG: file });
  assert.match(error.message, /politique tarifaire .* introuvable/);
  assert.deepEqual(
    error.details.map((d) => d.path),
    ['politiqueTarifaire'],
  );
  assert.match(error.details[0]?.message ?? '', new RegExp(`${join(dir, 'sans-politique', 'absente.yaml')}$`));
});

test('a broken policy stops the start with the policy file and each faulty field path', () => {
  const folder = join(dir, 'politique-cassee');
  const file = communeFile(folder, 'politique.yaml');
  // The canteen loses its ceiling; an unknown formula replaces rfr-parts.
  const broken = BOULOGNE.replace('plafond: 7.20', '').replace('formule: rfr-parts', 'formule: rfr-magique');
  writeFileSync(join(folder, 'politique.yaml'), broken);
  const error = configError({ QUOTIENT_CONFIG: file });
  assert.match(error.message, new RegExp(`La politique tarifaire ${join(folder, 'politique.yaml')}, désignée dans ${file}, est invalide`));
  const paths = error.details.map((d) => d.path).sort();
  assert.deepEqual(paths, ['activites[0].grille.plafond', 'quotient.formule']);
  assert.match(error.details.find((d) => d.path === 'quotient.formule')?.message ?? '', /rfr-magique/);

  writeFileSync(join(folder, 'politique.yaml'), 'format: 1\ncommune: [non fermé\n');
  const syntax = configError({ QUOTIENT_CONFIG: file });
  assert.match(syntax.message, /n’est pas un YAML valide.*désignée dans/);
  assert.match(syntax.details[0]?.path ?? '', /^ligne \d+, colonne \d+$/);
});

test('FranceConnect and SMTP: set together, checked with French reasons, absent by default', () => {
  const none = loadConfig({}, { mode: 'demo', cwd: dir });
  assert.equal(none.franceConnect, undefined);
  assert.equal(none.smtp, undefined);
  const fc = configError({ QUOTIENT_FC_ISSUER: 'https://fc.exemple.fr/api/v2' });
  assert.deepEqual(fc.details.map((d) => d.path).sort(), ['QUOTIENT_FC_CLIENT_ID', 'QUOTIENT_FC_CLIENT_SECRET']);
  assert.match(fc.details[0]?.message ?? '', /se renseignent ensemble/);
  assert.deepEqual(
    configError({ QUOTIENT_SMTP_URL: 'http://relais' }).details.map((d) => d.path),
    ['QUOTIENT_SMTP_URL'],
  );
  assert.deepEqual(
    configError({ QUOTIENT_SMTP_FROM: 'Ville <x@ville.fr>' }).details.map((d) => d.path),
    ['QUOTIENT_SMTP_URL'],
  );
  const ok = loadConfig(
    {
      QUOTIENT_FC_ISSUER: 'https://fc.exemple.fr/api/v2',
      QUOTIENT_FC_CLIENT_ID: 'id',
      QUOTIENT_FC_CLIENT_SECRET: 'secret',
      QUOTIENT_SMTP_URL: 'smtp://relais.ville.fr:25',
      QUOTIENT_PUBLIC_URL: 'https://quotient.ville.fr',
    },
    { mode: 'demo', cwd: dir },
  );
  assert.deepEqual(ok.franceConnect, { issuer: 'https://fc.exemple.fr/api/v2', clientId: 'id', clientSecret: 'secret' });
  assert.deepEqual(ok.smtp, { url: 'smtp://relais.ville.fr:25', from: 'Quotient familial <ne-pas-repondre@quotient.ville.fr>' });
});

test('renouvellement: absent means not offered; dureeMaxAns defaults to 3, from 1 to 5 years, each mistake said in French', () => {
  const folder = join(dir, 'renouvellement');
  const file = communeFile(folder, join(dir, 'renouvellement', 'politique.yaml'));
  writeFileSync(join(folder, 'politique.yaml'), BOULOGNE);
  const base = readFileSync(file, 'utf8');
  assert.equal(loadConfig({ QUOTIENT_CONFIG: file }, { mode: 'production', cwd: dir }).commune.renouvellement, undefined);
  assert.equal(loadConfig({}, { mode: 'demo', cwd: dir }).commune.renouvellement?.dureeMaxAns, 3, 'the demo offers it, for 3 years');
  writeFileSync(file, `${base}\nrenouvellement: {}\n`);
  assert.deepEqual(loadConfig({ QUOTIENT_CONFIG: file }, { mode: 'production', cwd: dir }).commune.renouvellement, { dureeMaxAns: 3 });
  for (const [valeur, message] of [
    ['7', /au plus 5 ans/],
    ['0', /au moins 1 an/],
    ['2.5', /nombre entier d’années/],
    ['trois', /nombre entier d’années attendu, de 1 à 5/],
  ] as const) {
    writeFileSync(file, `${base}\nrenouvellement: { dureeMaxAns: ${valeur} }\n`);
    const error = configError({ QUOTIENT_CONFIG: file });
    const detail = error.details.find((d) => d.path === 'renouvellement.dureeMaxAns');
    assert.ok(detail, `${valeur}: ${JSON.stringify(error.details)}`);
    assert.match(detail.message, message, valeur);
  }
  writeFileSync(file, `${base}\nrenouvellement: { dureeMax: 3 }\n`);
  assert.ok(
    configError({ QUOTIENT_CONFIG: file }).details.some((d) => d.path.startsWith('renouvellement')),
    'a misspelt key is refused',
  );
});
