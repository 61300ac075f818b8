import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CANAUX_DEMANDE,
  evenementsPermis,
  LIBELLES_CANAL,
  STATUTS,
  STATUTS_AVEC_NUMERO_FISCAL,
  STATUTS_DEMANDE,
  STATUTS_TERMINAUX,
  statutsAtteignables,
  transition,
  TransitionInterdite,
  type Demande,
  type EvenementDemande,
  type StatutDemande,
} from './demande.ts';
import { QuotientError } from './errors.ts';

/** One event of each kind and case of content. */
const EXEMPLES: Record<string, EvenementDemande> = {
  consentement: { type: 'consentement_recueilli' },
  file: { type: 'mise_en_file' },
  appel: { type: 'appel_demarre' },
  'recue/calculee': { type: 'situation_recue', controle: 'concordant', quotientCalcule: true },
  'recue/non-combinable': { type: 'situation_recue', controle: 'concordant', quotientCalcule: false },
  'recue/a-verifier': { type: 'situation_recue', controle: 'a_verifier', quotientCalcule: false },
  'recue/discordante': { type: 'situation_recue', controle: 'discordant', quotientCalcule: false },
  'indisponible/introuvable': { type: 'situation_indisponible', raison: 'introuvable' },
  'indisponible/annee': { type: 'situation_indisponible', raison: 'annee_indisponible' },
  'indisponible/multiple': { type: 'situation_indisponible', raison: 'situation_multiple' },
  'echec/reessayable': { type: 'echec_appel', reessayable: true },
  'echec/definitif': { type: 'echec_appel', reessayable: false },
  'spi-perdu': { type: 'spi_perdu' },
  saisie: { type: 'nouvelle_saisie' },
  'decision/confirme': { type: 'decision_instructeur', decision: 'confirme', motif: 'Nom d’usage vérifié sur le livret de famille.' },
  'decision/qf-manuel': { type: 'decision_instructeur', decision: 'qf_manuel', motif: 'Avis papier présenté au guichet.' },
  'decision/refuse': { type: 'decision_instructeur', decision: 'refuse', motif: 'L’avis concerne une autre personne.' },
  'decision/resaisie': { type: 'decision_instructeur', decision: 'resaisie', motif: 'Numéro fiscal probablement mal saisi.' },
  reexamen: { type: 'reexamen' },
  'annulation/famille': { type: 'annulation', par: 'famille' },
  'annulation/agent': { type: 'annulation', par: 'agent' },
  expiration: { type: 'expiration' },
};

/** The machine written out by hand, independently of TABLE_TRANSITIONS: status → example → target. */
const ATTENDU: Record<StatutDemande, Record<string, StatutDemande>> = {
  brouillon: { consentement: 'consentie', reexamen: 'a_verifier', 'annulation/famille': 'annulee', 'annulation/agent': 'annulee', expiration: 'expiree' },
  consentie: { file: 'en_file', appel: 'en_cours', 'spi-perdu': 'a_ressaisir', 'annulation/famille': 'annulee', 'annulation/agent': 'annulee' },
  en_file: { appel: 'en_cours', 'spi-perdu': 'a_ressaisir', 'annulation/famille': 'annulee', 'annulation/agent': 'annulee' },
  en_cours: {
    'recue/calculee': 'calculee',
    'recue/non-combinable': 'a_verifier',
    'recue/a-verifier': 'a_verifier',
    'recue/discordante': 'a_verifier',
    'indisponible/introuvable': 'a_verifier',
    'indisponible/annee': 'a_verifier',
    'indisponible/multiple': 'a_verifier',
    'echec/reessayable': 'en_file',
    'echec/definitif': 'echouee',
    'spi-perdu': 'a_ressaisir',
  },
  calculee: {},
  a_verifier: {
    // The family corrects a mistyped number instead of waiting for an instructor.
    saisie: 'consentie',
    'decision/confirme': 'calculee',
    'decision/qf-manuel': 'calculee',
    'decision/refuse': 'refusee',
    'decision/resaisie': 'a_ressaisir',
    'annulation/famille': 'annulee',
    'annulation/agent': 'annulee',
  },
  refusee: {},
  echouee: { saisie: 'consentie', 'annulation/famille': 'annulee', 'annulation/agent': 'annulee', expiration: 'expiree' },
  a_ressaisir: { saisie: 'consentie', 'annulation/famille': 'annulee', 'annulation/agent': 'annulee', expiration: 'expiree' },
  annulee: {},
  expiree: {},
};

function interdite(fn: () => unknown): TransitionInterdite {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TransitionInterdite, String(error));
    assert.ok(error instanceof QuotientError);
    assert.equal(error.kind, 'conflict');
    assert.equal(error.code, 'transition_interdite');
    return error;
  }
  assert.fail('la transition aurait dû être refusée');
}

function invalide(fn: () => unknown): QuotientError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof QuotientError && error.kind === 'invalid', String(error));
    return error;
  }
  assert.fail('l’entrée aurait dû être refusée');
}

test('the transition table, status by status and event by event', () => {
  for (const statut of STATUTS_DEMANDE) {
    for (const [nom, evenement] of Object.entries(EXEMPLES)) {
      const attendu = ATTENDU[statut][nom];
      if (attendu) {
        const t = transition(statut, evenement);
        assert.equal(t.vers, attendu, `${statut} + ${nom}`);
        assert.equal(t.de, statut);
        assert.equal(t.action, `demande.${evenement.type}`);
        assert.equal(t.terminal, STATUTS_TERMINAUX.includes(attendu));
      } else {
        const e = interdite(() => transition(statut, evenement));
        assert.equal(e.de, statut, `${statut} + ${nom}`);
      }
    }
  }
});

test('a refused transition names both statuses in French, and says when the request is closed', () => {
  assert.equal(
    interdite(() => transition('brouillon', { type: 'appel_demarre' })).message,
    'Une demande au statut « Brouillon » ne peut pas passer au statut « En cours » (appel à la DGFiP).',
  );
  const close = interdite(() => transition('calculee', { type: 'decision_instructeur', decision: 'refuse', motif: 'x' }));
  assert.equal(
    close.message,
    'Une demande au statut « Quotient calculé » ne peut pas passer au statut « Refusée » (décision de l’instructeur) : la demande est close.',
  );
  assert.deepEqual([close.de, close.vers, close.evenement], ['calculee', 'refusee', 'decision_instructeur']);
});

test('a request record or its bare status give the same transition', () => {
  const demande: Demande = { id: 'd1', canal: 'guichet', statut: 'en_cours', anneeRevenus: 2024 };
  assert.deepEqual(transition(demande, EXEMPLES['recue/calculee'] as EvenementDemande), transition('en_cours', EXEMPLES['recue/calculee'] as EvenementDemande));
  assert.ok(Object.isFrozen(transition(demande, { type: 'spi_perdu' })));
});

test('what each transition asks to record', () => {
  const effets = (statut: StatutDemande, nom: string) => transition(statut, EXEMPLES[nom] as EvenementDemande).effets;
  assert.deepEqual(effets('brouillon', 'consentement'), ['enregistrer_consentement']);
  assert.deepEqual(effets('consentie', 'file'), []);
  assert.deepEqual(effets('en_cours', 'recue/calculee'), [
    'oublier_numero_fiscal',
    'conserver_situation',
    'enregistrer_controle',
    'enregistrer_quotient',
    'notifier_famille',
  ]);
  assert.deepEqual(effets('en_cours', 'recue/a-verifier'), [
    'oublier_numero_fiscal',
    'conserver_situation',
    'enregistrer_controle',
    'signaler_instructeur',
    'notifier_famille',
  ]);
  // Someone else's avis is not kept.
  assert.deepEqual(effets('en_cours', 'recue/discordante'), [
    'oublier_numero_fiscal',
    'ecarter_situation',
    'enregistrer_controle',
    'signaler_instructeur',
    'notifier_famille',
  ]);
  assert.deepEqual(effets('en_cours', 'indisponible/annee'), ['oublier_numero_fiscal', 'signaler_instructeur', 'notifier_famille']);
  // A retry keeps the number in memory and tells nobody yet.
  assert.deepEqual(effets('en_cours', 'echec/reessayable'), ['planifier_nouvel_essai']);
  assert.deepEqual(effets('en_cours', 'echec/definitif'), ['oublier_numero_fiscal', 'notifier_famille']);
  // After a restart the number is already gone: nothing to forget, someone must type it again.
  assert.deepEqual(effets('en_file', 'spi-perdu'), ['demander_nouvelle_saisie', 'notifier_famille']);
  assert.deepEqual(effets('a_verifier', 'decision/qf-manuel'), ['enregistrer_decision', 'enregistrer_quotient', 'notifier_famille']);
  assert.deepEqual(effets('a_verifier', 'decision/resaisie'), ['enregistrer_decision', 'demander_nouvelle_saisie', 'notifier_famille']);
  // A re-examination never calls the DGFiP: nothing typed, nothing to forget; it goes to an instructor.
  assert.deepEqual(effets('brouillon', 'reexamen'), ['signaler_instructeur', 'notifier_famille']);
  assert.deepEqual(effets('en_file', 'annulation/famille'), ['oublier_numero_fiscal']);
  assert.deepEqual(effets('en_file', 'annulation/agent'), ['oublier_numero_fiscal', 'notifier_famille']);
  assert.deepEqual(effets('a_ressaisir', 'expiration'), ['notifier_famille']);
});

test('malformed events and unknown statuses are typed errors, never a transition', () => {
  const cas: [unknown, string][] = [
    [{ type: 'situation_recue', controle: 'concordant', quotientCalcule: true }, ''],
    [{ type: 'situation_recue', controle: 'a_verifier', quotientCalcule: true }, 'evenement.quotientCalcule'],
    [{ type: 'situation_recue', controle: 'peut-etre', quotientCalcule: false }, 'evenement.controle'],
    [{ type: 'situation_recue', controle: 'concordant' }, 'evenement.quotientCalcule'],
    [{ type: 'situation_indisponible', raison: 'panne' }, 'evenement.raison'],
    [{ type: 'echec_appel' }, 'evenement.reessayable'],
    [{ type: 'decision_instructeur', decision: 'confirme', motif: '  ' }, 'evenement.motif'],
    [{ type: 'decision_instructeur', decision: 'peut-etre', motif: 'x' }, 'evenement.decision'],
    [{ type: 'annulation' }, 'evenement.par'],
    [{ type: 'teleportation' }, 'evenement.type'],
    [null, 'evenement.type'],
  ];
  for (const [evenement, chemin] of cas) {
    if (chemin === '') {
      assert.equal(transition('en_cours', evenement as EvenementDemande).vers, 'calculee');
      continue;
    }
    const e = invalide(() => transition('en_cours', evenement as EvenementDemande));
    assert.equal(e.code, 'evenement_invalide');
    assert.equal(e.details[0]?.path, chemin, JSON.stringify(evenement));
  }
  const inconnu = invalide(() => transition('perdue' as StatutDemande, { type: 'spi_perdu' }));
  assert.equal(inconnu.code, 'statut_inconnu');
  assert.equal(inconnu.message, 'Statut de demande inconnu : « perdue ».');
});

test('every status has a French label and one explanatory sentence for the family; channels have labels', () => {
  for (const s of STATUTS_DEMANDE) {
    const d = STATUTS[s];
    assert.ok(d.libelle.length > 0 && d.libelle.length <= 30, s);
    assert.match(d.explication, /^(Votre|Vous|La DGFiP|La mairie|Un agent|Après|Par sécurité)[^.]*\.$/u, s);
    assert.equal(d.terminal, STATUTS_TERMINAUX.includes(s));
  }
  assert.match(STATUTS.en_file.explication, /attend un créneau d’appel à la DGFiP/);
  assert.deepEqual(
    CANAUX_DEMANDE.map((c) => LIBELLES_CANAL[c]),
    ['en ligne', 'au guichet', 'campagne de mise à jour'],
  );
});

test('events offered per status follow the table', () => {
  assert.deepEqual(evenementsPermis('brouillon'), ['consentement_recueilli', 'reexamen', 'annulation', 'expiration']);
  assert.deepEqual(evenementsPermis('a_verifier'), ['nouvelle_saisie', 'decision_instructeur', 'annulation']);
  for (const s of STATUTS_TERMINAUX) assert.deepEqual(evenementsPermis(s), []);
});

// ---------------------------------------------------------------------------------------------
// Properties

const evenementQuelconque = fc.constantFrom(...Object.values(EXEMPLES));

test('property: random event sequences only ever reach declared statuses; refusals leave the status unchanged', () => {
  fc.assert(
    fc.property(fc.array(evenementQuelconque, { maxLength: 60 }), (evenements) => {
      let statut: StatutDemande = 'brouillon';
      for (const e of evenements) {
        let t;
        try {
          t = transition(statut, e);
        } catch (error) {
          assert.ok(error instanceof TransitionInterdite);
          assert.equal(error.de, statut);
          assert.ok(error.message.includes(`« ${STATUTS[error.de].libelle} »`) && error.message.includes(`« ${STATUTS[error.vers].libelle} »`));
          continue;
        }
        assert.equal(t.de, statut);
        assert.ok(STATUTS_DEMANDE.includes(t.vers));
        statut = t.vers;
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: terminal statuses accept no event at all', () => {
  fc.assert(
    fc.property(fc.constantFrom(...STATUTS_TERMINAUX), evenementQuelconque, (statut, e) => {
      interdite(() => transition(statut, e));
    }),
  );
});

/** Reachability computed by calling `transition`, not by reading the table. */
function successeurs(statut: StatutDemande): StatutDemande[] {
  const out: StatutDemande[] = [];
  for (const e of Object.values(EXEMPLES)) {
    try {
      out.push(transition(statut, e).vers);
    } catch (error) {
      if (!(error instanceof TransitionInterdite)) throw error;
    }
  }
  return out;
}

function atteignables(depuis: StatutDemande): Set<StatutDemande> {
  const vus = new Set<StatutDemande>([depuis]);
  const pile = [depuis];
  while (pile.length > 0) {
    for (const s of successeurs(pile.pop() as StatutDemande)) {
      if (!vus.has(s)) {
        vus.add(s);
        pile.push(s);
      }
    }
  }
  return vus;
}

test('every status is reachable from a draft, and from every status a terminal one can be reached', () => {
  assert.deepEqual([...atteignables('brouillon')].sort(), [...STATUTS_DEMANDE].sort());
  for (const s of STATUTS_DEMANDE) {
    assert.ok(
      [...atteignables(s)].some((x) => STATUTS_TERMINAUX.includes(x)),
      s,
    );
    assert.deepEqual(
      statutsAtteignables(s),
      STATUTS_DEMANDE.filter((x) => atteignables(s).has(x)),
      s,
    );
  }
});

test('property: wherever a random history leads, the request can still end', () => {
  fc.assert(
    fc.property(fc.array(evenementQuelconque, { maxLength: 40 }), (evenements) => {
      let statut: StatutDemande = 'brouillon';
      for (const e of evenements) {
        try {
          statut = transition(statut, e).vers;
        } catch {
          // refused: the status stays
        }
      }
      assert.ok([...atteignables(statut)].some((x) => STATUTS_TERMINAUX.includes(x)));
    }),
  );
});

test('property: the numéro fiscal is forgotten whenever the request leaves the call path, and only typed in on the way in', () => {
  fc.assert(
    fc.property(fc.constantFrom(...STATUTS_DEMANDE), evenementQuelconque, (statut, e) => {
      let t;
      try {
        t = transition(statut, e);
      } catch {
        return;
      }
      const avant = STATUTS_AVEC_NUMERO_FISCAL.includes(t.de);
      const apres = STATUTS_AVEC_NUMERO_FISCAL.includes(t.vers);
      assert.equal(t.effets.includes('oublier_numero_fiscal'), avant && !apres && e.type !== 'spi_perdu');
      if (!avant && apres) assert.ok(['consentement_recueilli', 'nouvelle_saisie'].includes(e.type));
      if (t.vers === 'calculee') assert.ok(t.effets.includes('enregistrer_quotient'));
      if (t.effets.includes('enregistrer_quotient')) assert.equal(t.vers, 'calculee');
      assert.ok(!(t.effets.includes('conserver_situation') && t.effets.includes('ecarter_situation')));
      assert.equal(t.effets.includes('signaler_instructeur'), t.vers === 'a_verifier');
      assert.equal(new Set(t.effets).size, t.effets.length);
    }),
  );
});

test('property: anything at all passed as an event or a status is refused with a typed error', () => {
  fc.assert(
    fc.property(fc.oneof(fc.constantFrom(...STATUTS_DEMANDE), fc.anything()), fc.anything(), (statut, evenement) => {
      try {
        const t = transition(statut as StatutDemande, evenement as EvenementDemande);
        assert.ok(STATUTS_DEMANDE.includes(t.vers));
      } catch (error) {
        assert.ok(error instanceof QuotientError, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
