// A secret the server shows once (a push token, an API key): the value, a copy button, an
// optional usage example, and a plain warning that it will not be shown again.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('failed');
    }
  };
  return (
    <>
      <button type="button" onClick={() => void copy()} aria-label={label}>
        Copy
      </button>
      <span class="muted" role="status">
        {done === 'copied' ? 'Copied.' : done === 'failed' ? 'Select the text and copy it.' : ''}
      </span>
    </>
  );
}

export function OneTimeSecret({
  title,
  label,
  value,
  example,
  onDone,
  children,
}: {
  title: string;
  /** what the value is, e.g. "Beat URL" */
  label: string;
  value: string;
  /** a one-line command using it */
  example?: string;
  onDone: () => void;
  children?: ComponentChildren;
}) {
  return (
    <section class="panel secret" aria-labelledby="secret-h" data-testid="one-time-secret">
      <h2 id="secret-h">{title}</h2>
      <p>
        <strong>Copy it now: it will not be shown again.</strong> Only a hash is stored.
      </p>
      {children}
      <div class="secret-row">
        <span class="secret-label">{label}</span>
        <code class="secret-value" data-testid="secret-value">
          {value}
        </code>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
      {example && (
        <div class="secret-row">
          <span class="secret-label">Example</span>
          <code class="secret-value" data-testid="secret-example">
            {example}
          </code>
          <CopyButton text={example} label="Copy the example" />
        </div>
      )}
      <div class="actions">
        <button type="button" class="primary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </section>
  );
}

/** The full beat URL of a push token, on the origin the dashboard is served from. */
export function beatUrlOf(token: string): string {
  return `${location.origin}/api/push/${token}`;
}

export function PushTokenShown({
  name,
  token,
  onDone,
}: {
  name: string;
  token: string;
  onDone: () => void;
}) {
  const url = beatUrlOf(token);
  return (
    <OneTimeSecret
      title={`Beat URL of ${name}`}
      label="Beat URL"
      value={url}
      example={`curl -fsS -m 10 --retry 3 ${url}`}
      onDone={onDone}
    >
      <p class="muted">
        Have the job call this URL (GET or POST) at the end of every run. No beat within the period
        plus grace, and the site is DOWN.
      </p>
    </OneTimeSecret>
  );
}
