import type { ComponentChildren } from 'preact';

/** A labelled input with its validation message in place (aria-describedby links them). */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${error ? ' field-error' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function describedBy(id: string, error?: string, hint?: string): string | undefined {
  return error ? `${id}-error` : hint ? `${id}-hint` : undefined;
}

/** A labelled text-like input whose value lives in the caller's state. */
export function Input({
  id,
  label,
  error,
  hint,
  value,
  onValue,
  ...props
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  value: string;
  onValue: (v: string) => void;
  [prop: string]: unknown;
}) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      <input
        id={id}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, error, hint)}
        {...props}
      />
    </Field>
  );
}

/** A labelled select of [value, text] options. */
export function Select({
  id,
  name,
  label,
  error,
  hint,
  value,
  onValue,
  options,
}: {
  id: string;
  name?: string;
  label: string;
  error?: string;
  hint?: string;
  value: string;
  onValue: (v: string) => void;
  options: readonly (readonly [string, string])[];
}) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      <select
        id={id}
        name={name}
        value={value}
        onChange={(e) => onValue(e.currentTarget.value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, error, hint)}
      >
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** An API error's issues keyed by their path with `strip` removed ("settings.url" → "url"). */
export function issuesOf(details: { path: string; message: string }[], strip = '') {
  const out: Record<string, string> = {};
  for (const d of details) {
    const key = strip && d.path.startsWith(strip) ? d.path.slice(strip.length) : d.path;
    out[key.split('.')[0] ?? key] ??= d.message;
  }
  return out;
}
