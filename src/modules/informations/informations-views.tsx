import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { PostalAddress } from '../../http/ui/components.tsx';

export function MentionsLegalesPage({ commune }: { commune: CommuneConfig }) {
  const m = commune.mentionsLegales;
  return (
    <>
      <h1>Mentions légales</h1>
      <h2>Éditeur du service</h2>
      <p>{m.editeur}</p>
      <h2>Directeur de la publication</h2>
      <p>{m.directeurPublication}</p>
      <h2>Hébergement</h2>
      <p>
        {m.hebergeur.nom}
        <br />
        {m.hebergeur.adresse}
        {m.hebergeur.telephone ? (
          <>
            <br />
            Téléphone : {m.hebergeur.telephone}
          </>
        ) : null}
      </p>
      <h2>Logiciel</h2>
      <p>Ce service fonctionne avec Quotient, logiciel libre de calcul du quotient familial.</p>
      <h2>Données personnelles</h2>
      <p>
        Le traitement de vos données est décrit sur la page <a href="/confidentialite">Données personnelles</a>.
      </p>
    </>
  );
}

export function AccessibilitePage({ commune }: { commune: CommuneConfig }) {
  const a = commune.accessibilite;
  return (
    <>
      <h1>Déclaration d’accessibilité</h1>
      <p>
        {commune.commune.nom} s’engage à rendre ses services en ligne accessibles, conformément à l’article 47 de la loi n° 2005-102 du 11 février 2005. Cette
        déclaration s’applique au service de calcul du quotient familial.
      </p>
      <h2>État de conformité</h2>
      <p>
        Ce service est <strong>{a.etat}</strong> avec le référentiel général d’amélioration de l’accessibilité ({a.referentiel})
        {a.dateAudit ? `, selon l’audit du ${formatDateFr(a.dateAudit)}` : ', faute d’audit réalisé à ce jour'}.
      </p>
      <h2>Retour d’information et contact</h2>
      <p>
        Si vous n’arrivez pas à accéder à un contenu ou à un service, contactez le {commune.contact.service} à{' '}
        <a href={`mailto:${commune.contact.email}`}>{commune.contact.email}</a> : nous vous orienterons vers une alternative accessible ou ferons la démarche
        avec vous.
      </p>
      <h2>Voies de recours</h2>
      <p>
        Si vous nous avez signalé un défaut d’accessibilité sans obtenir de réponse satisfaisante, vous pouvez saisir le Défenseur des droits : par le
        formulaire en ligne sur defenseurdesdroits.fr, par un délégué de votre région, ou par courrier gratuit, sans affranchissement, à : Défenseur des droits,
        Libre réponse 71120, 75342 Paris CEDEX 07.
      </p>
    </>
  );
}

export function ConfidentialitePage({ commune }: { commune: CommuneConfig }) {
  const { conservation: c, avisDepose: a, confidentialite: conf, dpo } = commune;
  return (
    <>
      <h1>Données personnelles</h1>
      <h2>Responsable du traitement</h2>
      <p>{commune.commune.nom}, représentée par son maire.</p>
      <PostalAddress lines={commune.commune.adresse.lignes} codePostal={commune.commune.adresse.codePostal} ville={commune.commune.adresse.ville} />
      <h2>Finalités</h2>
      <ul>
        {conf.finalites.map((f) => (
          <li key={f}>{f}</li>
        ))}
      </ul>
      <h2>Base légale</h2>
      <p>{conf.baseLegale}</p>
      <h2>Données utilisées</h2>
      <p>
        Avec votre accord exprès, la commune obtient directement de la DGFiP les seules informations fiscales nécessaires au calcul (notamment le revenu fiscal
        de référence et le nombre de parts), ainsi que l’identité des déclarants pour vérifier qu’il s’agit bien de votre foyer. Votre numéro fiscal sert
        uniquement le temps de l’échange avec la DGFiP : il n’est jamais conservé.
      </p>
      <h2>L’avis d’imposition que vous envoyez</h2>
      <p>
        Si la DGFiP n’a pas pu fournir votre avis, vous pouvez l’envoyer vous-même. Il montre votre numéro fiscal : c’est la seule exception à la règle
        ci-dessus. Le fichier est conservé chiffré, n’est ni lu par un programme, ni indexé, ni recopié ; seul l’agent qui instruit votre demande peut l’ouvrir,
        et chaque ouverture est enregistrée. Il est détruit dès la décision de l’agent, et au plus tard {a.conservationJoursMax} jours après son envoi.
      </p>
      <h2>Destinataires</h2>
      <ul>
        {conf.destinataires.map((d) => (
          <li key={d}>{d}</li>
        ))}
      </ul>
      <p>Chaque consultation et chaque action est tracée dans un journal contrôlé.</p>
      <h2>Durées de conservation</h2>
      <ul>
        <li>Informations fiscales : jusqu’à {c.donneesFiscalesMoisApresValidite} mois après la fin de validité du quotient (délai pour le contester).</li>
        <li>Demandes, quotients et tarifs : {c.demandesMois} mois après la fin de validité du quotient (ou de la demande).</li>
        <li>Avis d’imposition envoyé par vous : jusqu’à la décision, {a.conservationJoursMax} jours au plus.</li>
        <li>Journal des consultations et des actions : {c.journalMois} mois.</li>
        <li>Numéro fiscal : jamais conservé.</li>
      </ul>
      <h2>Vos droits</h2>
      <p>
        Vous pouvez accéder à vos données (page « Mes données » de votre espace), les faire rectifier, retirer votre accord pour les prochaines mises à jour,
        contester un calcul et demander la limitation du traitement. Écrivez au {commune.contact.service} (
        <a href={`mailto:${commune.contact.email}`}>{commune.contact.email}</a>) ou au délégué à la protection des données.
      </p>
      <h2>Délégué à la protection des données</h2>
      <p>
        {dpo.nom ? `${dpo.nom} — ` : ''}
        <a href={`mailto:${dpo.email}`}>{dpo.email}</a>
      </p>
      {dpo.adresse ? <PostalAddress lines={dpo.adresse.lignes} codePostal={dpo.adresse.codePostal} ville={dpo.adresse.ville} /> : null}
      <p>Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL (cnil.fr).</p>
    </>
  );
}

export function ContactPage({ commune }: { commune: CommuneConfig }) {
  const c = commune.contact;
  return (
    <>
      <h1>Contact</h1>
      <p class="lead">Le {c.service} répond à vos questions sur le quotient familial et peut faire la démarche avec vous.</p>
      <dl class="facts">
        <dt>Courriel</dt>
        <dd>
          <a href={`mailto:${c.email}`}>{c.email}</a>
        </dd>
        {c.telephone ? (
          <>
            <dt>Téléphone</dt>
            <dd>
              <a href={`tel:${c.telephone.replace(/[^+0-9]/g, '')}`}>{c.telephone}</a>
            </dd>
          </>
        ) : null}
        {c.horaires ? (
          <>
            <dt>Horaires</dt>
            <dd>{c.horaires}</dd>
          </>
        ) : null}
        {c.adresse ? (
          <>
            <dt>Accueil</dt>
            <dd>
              <PostalAddress lines={c.adresse.lignes} codePostal={c.adresse.codePostal} ville={c.adresse.ville} />
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Protection des données</h2>
      <p>
        Délégué à la protection des données : <a href={`mailto:${commune.dpo.email}`}>{commune.dpo.email}</a>
      </p>
    </>
  );
}

const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

function formatDateFr(iso: string): string {
  const [year, month, day] = iso.split('-').map(Number);
  return `${day === 1 ? '1er' : String(day)} ${MONTHS[(month ?? 1) - 1]} ${year}`;
}
