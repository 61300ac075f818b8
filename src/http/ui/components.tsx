import type { ComponentChildren } from 'preact';
import type { ErrorDetail } from '../../domain/errors.ts';
import { CLE_A_CONFIRMER, type VerificationCle } from '../formulaire.ts';

export function Alert({ kind, title, children }: { kind: 'info' | 'error' | 'success' | 'warning'; title: string; children?: ComponentChildren }) {
  return (
    <div class={`alert alert--${kind}`} role={kind === 'error' ? 'alert' : undefined}>
      <h2 class="alert__title">{title}</h2>
      {children}
    </div>
  );
}

export function PostalAddress({ lines, codePostal, ville }: { lines: readonly string[]; codePostal: string; ville: string }) {
  return (
    <address>
      {lines.map((line) => (
        <span key={line}>
          {line}
          <br />
        </span>
      ))}
      {codePostal} {ville}
    </address>
  );
}

/**
 * The list of what to correct, at the top of a form page that came back with errors. Each entry
 * links to its field. A form whose action ends with `#<id>` brings the browser here and focuses
 * it (tabindex -1), without any script.
 */
export function ErrorSummary({ id, errors }: { id: string; errors: readonly { href: string | null; text: string }[] }) {
  const titre = errors.length === 1 ? 'Une information est à corriger' : `${errors.length} informations sont à corriger`;
  return (
    <div class="error-summary" id={id} role="alert" tabIndex={-1} aria-labelledby={`${id}-titre`}>
      <h2 class="error-summary__title" id={`${id}-titre`}>
        {titre}
      </h2>
      <ul class="error-summary__list">
        {errors.map((e) => (
          <li key={`${e.href}-${e.text}`}>{e.href ? <a href={e.href}>{e.text}</a> : e.text}</li>
        ))}
      </ul>
    </div>
  );
}

/** The id of a form page's error summary: a form whose action ends with `#erreurs` brings the browser to it. */
export const ANCRE_ERREURS = 'erreurs';

/**
 * The error summary of a form page, nothing when there is no error. Each problem links to its
 * field: the input whose id is the error's path; with `champs`, the id the map gives for the path,
 * else `defaut`, else no link. With `emplacements`, a problem whose path names no field says that
 * path before its message (the errors of a policy file point inside the file).
 */
export function Erreurs({
  errors,
  champs,
  defaut,
  emplacements = false,
}: {
  errors: readonly ErrorDetail[];
  champs?: Readonly<Record<string, string>>;
  defaut?: string;
  emplacements?: boolean;
}) {
  if (errors.length === 0) return null;
  return (
    <ErrorSummary
      id={ANCRE_ERREURS}
      errors={errors.map((e) => {
        const champ = champs ? (champs[e.path] ?? defaut) : e.path;
        const text = emplacements && e.path !== '' && !champs?.[e.path] ? `${e.path} : ${e.message}` : e.message;
        return { href: champ ? `#${champ}` : null, text };
      })}
    />
  );
}

/** What an action just did, at the top of the page that follows it (often after a redirect): « Décision enregistrée… ». */
export function Flash({ message }: { message: string | null | undefined }) {
  return message ? <Alert kind="success" title={message} /> : null;
}

/** The token every form that is posted carries (CSRF protection). */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** The messages of a form's errors that concern one field (by its id), joined; undefined when none. */
export function errorOf(errors: readonly ErrorDetail[], id: string): string | undefined {
  const mine = errors.filter((e) => e.path === id);
  return mine.length > 0 ? mine.map((e) => e.message).join(' ') : undefined;
}

function describedBy(id: string, hint: boolean, error: boolean): string | undefined {
  const ids = [hint ? `${id}-aide` : null, error ? `${id}-erreur` : null].filter((x) => x !== null);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** The error of field `id`, said first to screen readers; `${id}-erreur` is what its input or fieldset is described by. */
export function FieldError({ id, error }: { id: string; error: string }) {
  return (
    <span class="field__error" id={`${id}-erreur`}>
      <span class="visually-hidden">Erreur : </span>
      {error}
    </span>
  );
}

/** A field's label, then its hint and its error, each with the id that `describedBy` names. */
function FieldHead({ id, label, hint, error }: { id: string; label: string; hint: ComponentChildren | undefined; error: string | undefined }) {
  return (
    <>
      <label for={id}>{label}</label>
      {hint !== undefined ? (
        <span class="hint" id={`${id}-aide`}>
          {hint}
        </span>
      ) : null}
      {error !== undefined ? <FieldError id={id} error={error} /> : null}
    </>
  );
}

interface TextFieldProps {
  readonly id: string;
  /** Name of the submitted parameter; the id by default. */
  readonly name?: string;
  readonly label: string;
  /** `email` and `password` let browsers and password managers help; a password is never shown back. */
  readonly type?: 'text' | 'email' | 'password';
  readonly hint?: ComponentChildren;
  readonly value?: string;
  readonly error?: string;
  readonly inputMode?: 'numeric' | 'decimal' | 'text' | 'email' | 'tel';
  readonly autoComplete?: string;
  /** A short field for a number: its width tells the person what length is expected. */
  readonly size?: 'court' | 'moyen';
  readonly suffix?: string;
  /** Shown and sent, not changed: a value that comes from elsewhere (FranceConnect). */
  readonly readOnly?: boolean;
}

/** A labelled text input with its hint and its error, tied together for screen readers. */
export function TextField({ id, name, label, type = 'text', hint, value, error, inputMode, autoComplete = 'off', size, suffix, readOnly }: TextFieldProps) {
  const input = (
    <input
      id={id}
      name={name ?? id}
      type={type}
      inputMode={inputMode}
      autoComplete={autoComplete}
      spellcheck={false}
      value={type === 'password' ? '' : (value ?? '')}
      class={size ? `input--${size}` : undefined}
      aria-describedby={describedBy(id, hint !== undefined, error !== undefined)}
      aria-invalid={error !== undefined ? 'true' : undefined}
      readOnly={readOnly}
    />
  );
  return (
    <div class={`field${error !== undefined ? ' field--error' : ''}`}>
      <FieldHead id={id} label={label} hint={hint} error={error} />
      {suffix ? (
        <span class="input-group">
          {input}
          <span class="input-group__suffix" aria-hidden="true">
            {suffix}
          </span>
        </span>
      ) : (
        input
      )}
    </div>
  );
}

interface SelectFieldProps {
  readonly id: string;
  readonly label: string;
  readonly hint?: ComponentChildren;
  readonly options: readonly { value: string; label: string }[];
  readonly value?: string;
  readonly error?: string;
}

export function SelectField({ id, label, hint, options, value, error }: SelectFieldProps) {
  return (
    <div class={`field${error !== undefined ? ' field--error' : ''}`}>
      <FieldHead id={id} label={label} hint={hint} error={error} />
      <select
        id={id}
        name={id}
        class="input--moyen"
        aria-describedby={describedBy(id, hint !== undefined, error !== undefined)}
        aria-invalid={error !== undefined ? 'true' : undefined}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

interface TextAreaFieldProps {
  readonly id: string;
  /** Name of the submitted parameter; the id by default. */
  readonly name?: string;
  readonly label: string;
  readonly hint?: ComponentChildren;
  readonly value: string;
  readonly error?: string | undefined;
  readonly rows: number;
  readonly maxLength?: number;
  /** Off for a text that is not prose (a YAML file). */
  readonly spellcheck?: boolean;
  readonly autoComplete?: string;
  readonly className?: string;
}

/** A labelled multi-line text, with its hint and its error tied to it for screen readers. */
export function TextAreaField({ id, name, label, hint, value, error, rows, maxLength, spellcheck, autoComplete, className }: TextAreaFieldProps) {
  return (
    <div class={`field${error !== undefined ? ' field--error' : ''}`}>
      <FieldHead id={id} label={label} hint={hint} error={error} />
      <textarea
        id={id}
        name={name ?? id}
        rows={rows}
        maxLength={maxLength}
        spellcheck={spellcheck}
        autoComplete={autoComplete}
        class={className}
        aria-describedby={describedBy(id, hint !== undefined, error !== undefined)}
        aria-invalid={error !== undefined ? 'true' : undefined}
      >
        {value}
      </textarea>
    </div>
  );
}

/**
 * The field where a numéro fiscal is typed, for declarant `rang`. It never has a value: what was
 * typed is not sent back, even after an error (ARCHITECTURE §3.1). When the number typed had a key
 * that does not check (`CLE_A_CONFIRMER`), the box `confirme-<rang>` follows, unticked, described
 * by the field's error: ticked with the number typed again, it sends the number as it is.
 */
export function ChampNumeroFiscal({ rang, nom, errors, cle }: { rang: 1 | 2; nom: string; errors: readonly ErrorDetail[]; cle: VerificationCle }) {
  const id = `numero-${rang}`;
  const error = errorOf(errors, id);
  const aConfirmer = errors.some((e) => e.path === id && e.code === CLE_A_CONFIRMER);
  return (
    <>
      <TextField
        id={id}
        label={`Numéro fiscal de ${nom}`}
        hint="13 chiffres, par exemple 3012345678901 ; les espaces sont acceptés."
        inputMode="numeric"
        autoComplete="off"
        size="moyen"
        {...(error ? { error } : {})}
      />
      {aConfirmer ? (
        <CheckboxField id={`confirme-${rang}`} value="oui" label={cle.confirmation} hint={cle.aide} checked={false} decritPar={`${id}-erreur`} />
      ) : null}
    </>
  );
}

export function CheckboxField({
  id,
  name,
  value,
  label,
  hint,
  checked,
  decritPar,
}: {
  id: string;
  name?: string;
  value: string;
  label: string;
  hint?: ComponentChildren;
  checked: boolean;
  /** The id of another element that explains the box (the error of the field it confirms). */
  decritPar?: string;
}) {
  const describedBy = [decritPar, hint !== undefined ? `${id}-aide` : undefined].filter((x) => x !== undefined).join(' ');
  return (
    <div class="field checkbox">
      <input id={id} name={name ?? id} type="checkbox" value={value} checked={checked} aria-describedby={describedBy === '' ? undefined : describedBy} />
      <span class="checkbox__text">
        <label for={id}>{label}</label>
        {hint !== undefined ? (
          <span class="hint" id={`${id}-aide`}>
            {hint}
          </span>
        ) : null}
      </span>
    </div>
  );
}

/**
 * A radio group in its fieldset: the legend is the question, each answer has its label, and the
 * error summary links to the first answer (`<name>-<first value>`), where the error is also shown.
 */
export function RadioGroup({
  name,
  legend,
  hint,
  options,
  value,
  errors,
  className,
}: {
  name: string;
  legend: string;
  hint?: string;
  options: ReadonlyArray<readonly [string, string]>;
  value: string | undefined;
  errors: readonly ErrorDetail[];
  className?: string;
}) {
  const error = errorOf(errors, `${name}-${options[0]?.[0] ?? ''}`);
  return (
    <fieldset
      class={`field${className ? ` ${className}` : ''}${error ? ' field--error' : ''}`}
      aria-describedby={describedBy(name, hint !== undefined, error !== undefined)}
    >
      <legend>{legend}</legend>
      {hint ? (
        <span class="hint" id={`${name}-aide`}>
          {hint}
        </span>
      ) : null}
      {error ? <FieldError id={name} error={error} /> : null}
      {options.map(([v, label]) => (
        <div key={v} class="radio">
          <input type="radio" id={`${name}-${v}`} name={name} value={v} checked={value === v} />
          <label for={`${name}-${v}`}>{label}</label>
        </div>
      ))}
    </fieldset>
  );
}
