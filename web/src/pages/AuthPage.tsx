import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { describedBy, Field } from '../components/Field';
import { api, ApiError } from '../lib/api';
import { signIn } from '../lib/auth';

export function AuthPage({ mode }: { mode: 'login' | 'signup' }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === 'signup';

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      if (signup)
        await api('/api/auth/signup', { method: 'POST', body: { email, password }, auth: false });
      const { accessToken } = await api<{ accessToken: string }>('/api/auth/login', {
        method: 'POST',
        body: { email, password },
        auth: false,
      });
      signIn(accessToken);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const fields = err.byField();
      setErrors(fields);
      if (!fields.email && !fields.password) setGeneral(err.message);
    } finally {
      setBusy(false);
    }
  };

  const title = signup ? 'Create an account' : 'Sign in';
  return (
    <main id="main" class="auth">
      <h1>Uptime monitor</h1>
      <form class="panel" onSubmit={(e) => void submit(e)} aria-label={title} noValidate>
        <h2>{title}</h2>
        <Field id="email" label="E-mail" error={errors.email}>
          <input
            id="email"
            type="email"
            autocomplete="username"
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            aria-invalid={errors.email ? 'true' : undefined}
            aria-describedby={describedBy('email', errors.email)}
            required
          />
        </Field>
        <Field
          id="password"
          label="Password"
          error={errors.password}
          hint={signup ? 'at least 10 characters' : undefined}
        >
          <input
            id="password"
            type="password"
            autocomplete={signup ? 'new-password' : 'current-password'}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            aria-invalid={errors.password ? 'true' : undefined}
            aria-describedby={describedBy(
              'password',
              errors.password,
              signup ? 'at least 10 characters' : undefined,
            )}
            required
          />
        </Field>
        {general && (
          <p class="error" role="alert">
            {general}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {signup ? 'Sign up' : 'Sign in'}
          </button>
          {signup ? (
            <Link href="/login">I have an account</Link>
          ) : (
            <Link href="/signup">Create an account</Link>
          )}
        </div>
      </form>
    </main>
  );
}
